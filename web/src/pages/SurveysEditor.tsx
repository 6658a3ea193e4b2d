import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { errorsByPath } from './CampaignCommon';
import { locatePath } from './FlowsCommon';
import type { Survey } from './SurveysCommon';

/**
 * Where a path is in the text: the path itself, or the nearest enclosing one that is there. The API
 * names array elements both ways (`lowScore.assignees.0` from the schema, `lowScore.assignees[0]` from
 * the assignee check): both are looked up as dotted paths.
 */
function locate(text: string, path: string) {
  const parts = path.replace(/\[(\d+)\]/g, '.$1').split('.');
  for (let n = parts.length; n > 0; n--) {
    const at = locatePath(text, parts.slice(0, n).join('.'));
    if (at) return at;
  }
  return null;
}

/**
 * A survey's definition as JSON in a textarea, saved with `PUT /v1/surveys` (the flows editor's
 * approach, FlowsEditor.tsx). Checked as JSON before it is sent; a refusal shows the API's message and,
 * for each path its `details` name (`issues[].path`, `field`), the message beside that path and its
 * line in the text, a button selecting it there. `name` fixes the survey's name (an edit): a definition
 * naming another survey would save that one instead, so it is refused here; `taken` (a new survey) the
 * names in use, which would be overwritten.
 */
export function SurveyEditor({
  initial,
  name,
  title,
  label,
  help,
  save: saveLabel,
  taken,
  onSaved,
}: {
  initial: string;
  name?: string;
  /** The form's name (its heading's words). */
  title: string;
  taken?: Set<string>;
  label: string;
  help: string;
  save: string;
  onSaved: (survey: Survey) => void;
}) {
  const { t } = useTranslation();
  const queries = useQueryClient();
  const [text, setText] = useState(initial);
  /** Refused before sending: bad JSON, a missing or changed name, a name in use. */
  const [local, setLocal] = useState<{ path: string; message: string } | null>(null);
  const area = useRef<HTMLTextAreaElement>(null);
  const save = useMutation({
    mutationFn: (body: unknown) => api<Survey>('/v1/surveys', { method: 'PUT', body }),
    onSuccess: async (survey) => {
      await queries.invalidateQueries({ queryKey: ['surveys'] });
      await queries.invalidateQueries({ queryKey: ['survey', survey.name] });
      await queries.invalidateQueries({ queryKey: ['survey-results', survey.name] });
      onSaved(survey);
    },
  });
  const byPath = local ? new Map([[local.path, local.message]]) : errorsByPath(save.error);
  const errors = [...byPath].map(([path, message]) => ({
    path,
    message,
    at: path ? locate(text, path) : null,
  }));
  const top = local ? null : (save.error?.message ?? null);
  const show = (at: { start: number; end: number; line: number } | null) => {
    const el = area.current;
    if (!el) return;
    el.focus();
    if (!at) return;
    el.setSelectionRange(at.start, at.end);
    // A selection does not always scroll into view: the line goes near the top.
    const lineHeight = parseFloat(window.getComputedStyle(el).lineHeight) || 18;
    el.scrollTop = Math.max(0, (at.line - 3) * lineHeight);
  };
  // After a refusal the editor gets the focus, the first place named selected.
  const refusal = local ?? save.error;
  const first = errors[0]?.at ?? null;
  // Only when a new refusal arrives, not as the text changes: `first` is read through a ref.
  const firstRef = useRef(first);
  firstRef.current = first;
  useEffect(() => {
    if (refusal) show(firstRef.current);
  }, [refusal]);
  const described = ['survey-json-help', refusal ? 'survey-json-errors' : ''].filter(Boolean).join(' ');
  return (
    <form
      className="builder flow-editor"
      aria-label={title}
      onSubmit={(e) => {
        e.preventDefault();
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch (err) {
          save.reset();
          setLocal({ path: '', message: t('surveys.editor.badJson', { message: (err as Error).message }) });
          return;
        }
        const named = (body as { name?: unknown } | null)?.name;
        if (name !== undefined && named !== undefined && named !== name) {
          save.reset();
          setLocal({ path: 'name', message: t('surveys.editor.nameFixed', { name }) });
          return;
        }
        if (name === undefined && !(typeof named === 'string' && named.trim())) {
          save.reset();
          setLocal({ path: 'name', message: t('surveys.editor.needsName') });
          return;
        }
        if (typeof named === 'string' && taken?.has(named)) {
          save.reset();
          setLocal({ path: 'name', message: t('surveys.editor.taken', { name: named }) });
          return;
        }
        setLocal(null);
        // An edit whose text left the name out saves the survey it is on.
        save.mutate(
          name !== undefined && named === undefined && body && typeof body === 'object'
            ? { name, ...(body as object) }
            : body,
        );
      }}
    >
      <div className="cfield wide">
        <label htmlFor="survey-json">{label}</label>
        <textarea
          id="survey-json"
          ref={area}
          rows={22}
          spellCheck={false}
          value={text}
          aria-invalid={!!refusal}
          aria-describedby={described}
          onChange={(e) => setText(e.target.value)}
        />
        <small id="survey-json-help" className="muted">
          {help}
        </small>
      </div>
      <div id="survey-json-errors" aria-live="polite">
        {refusal ? (
          <div role="alert" data-testid="survey-save-error">
            {top ? <p className="field-error">{top}</p> : null}
            <h3 className="sr-only">{t('surveys.editor.errors')}</h3>
            <ul data-testid="survey-errors">
              {errors.map((e) => (
                <li key={e.path || '-'} data-error-for={e.path}>
                  {e.path ? (
                    <>
                      <code>{e.path}</code>
                      {e.at ? ` (${t('surveys.editor.line', { line: e.at.line })})` : ''}:{' '}
                    </>
                  ) : null}
                  <span className="field-error">{e.message}</span>
                  {e.path && e.at ? (
                    <>
                      {' '}
                      <button type="button" className="link" onClick={() => show(e.at)}>
                        {t('surveys.editor.show', { path: e.path })}
                      </button>
                    </>
                  ) : null}
                </li>
              ))}
            </ul>
          </div>
        ) : null}
      </div>
      <p className="save">
        <button type="submit" disabled={save.isPending}>
          {saveLabel}
        </button>
      </p>
    </form>
  );
}
