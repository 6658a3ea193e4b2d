import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import {
  definitionName,
  JsonEditor,
  nameRefusal,
  type NamedDefinitionEditorProps,
} from '../components/JsonEditor';
import { flowPath, type Flow } from './FlowsCommon';

/**
 * A flow's definition in the JSON editor (components/JsonEditor.tsx), saved with `PUT /v1/flows/{name}`
 * (a new flow as a draft, or the flow's next version). `name` fixes the flow's name (an edit): a
 * definition naming another flow would save that one instead, so it is refused here; `taken` (a new
 * flow) the names in use, whose next version it would make.
 */
export function FlowEditor({
  initial,
  name,
  taken,
  title,
  label,
  help,
  save,
  onSaved,
}: NamedDefinitionEditorProps<Flow>) {
  const { t } = useTranslation();
  const queries = useQueryClient();
  return (
    <JsonEditor
      id="flow"
      rows={28}
      initial={initial}
      labels={{ form: title, label, help, save, errors: t('flows.editor.errors') }}
      check={(body) =>
        nameRefusal(
          body,
          { name, taken },
          {
            nameFixed: t('flows.editor.nameFixed', { name }),
            needsName: t('flows.editor.needsName'),
            taken: (to) => t('flows.editor.taken', { name: to }),
          },
        )
      }
      // The flow's name is in the address; an edit's definition may leave it out.
      save={(body) => api<Flow>(flowPath(name ?? String(definitionName(body))), { method: 'PUT', body })}
      onSaved={async (flow) => {
        await queries.invalidateQueries({ queryKey: ['flows'] });
        await queries.invalidateQueries({ queryKey: ['flow', flow.name] });
        onSaved(flow);
      }}
    />
  );
}
