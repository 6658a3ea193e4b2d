import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import {
  definitionName,
  JsonEditor,
  nameRefusal,
  type NamedDefinitionEditorProps,
} from '../components/JsonEditor';
import type { Survey } from './SurveysCommon';

/**
 * A survey's definition in the JSON editor (components/JsonEditor.tsx), saved with `PUT /v1/surveys`.
 * `name` fixes the survey's name (an edit): a definition naming another survey would save that one
 * instead, so it is refused here; `taken` (a new survey) the names in use, which would be overwritten.
 */
export function SurveyEditor({
  initial,
  name,
  taken,
  title,
  label,
  help,
  save,
  onSaved,
}: NamedDefinitionEditorProps<Survey>) {
  const { t } = useTranslation();
  const queries = useQueryClient();
  return (
    <JsonEditor
      id="survey"
      rows={22}
      initial={initial}
      labels={{ form: title, label, help, save, errors: t('surveys.editor.errors') }}
      check={(body) =>
        nameRefusal(
          body,
          { name, taken },
          {
            nameFixed: t('surveys.editor.nameFixed', { name }),
            needsName: t('surveys.editor.needsName'),
            taken: (named) => t('surveys.editor.taken', { name: named }),
          },
        )
      }
      // An edit whose text left the name out saves the survey it is on.
      save={(body) =>
        api<Survey>('/v1/surveys', {
          method: 'PUT',
          body:
            name !== undefined && definitionName(body) === undefined && body && typeof body === 'object'
              ? { name, ...body }
              : body,
        })
      }
      onSaved={async (survey) => {
        await queries.invalidateQueries({ queryKey: ['surveys'] });
        await queries.invalidateQueries({ queryKey: ['survey', survey.name] });
        await queries.invalidateQueries({ queryKey: ['survey-results', survey.name] });
        onSaved(survey);
      }}
    />
  );
}
