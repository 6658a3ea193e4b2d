import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { errorsByPath } from './CampaignCommon';
import { flowPath, locatePath, type Flow } from './FlowsCommon';

/** Where a path is in the text: the path itself, or the nearest enclosing one that is there. */
function locate(text: string, path: string) {
  const parts = path.split('.');
  for (let n = parts.length; n > 0; n--) {
    const at = locatePath(text, parts.slice(0, n).join('.'));
    if (at) return at;
  }
  return null;
}

/**
 * A flow's definition as JSON in a textarea, saved with `PUT /v1/flows/{name}` (a new flow as a draft,
 * or the flow's next version). Checked as JSON before it is sent; a refusal shows the API's message and,
 * for each path its `details` name (`issues[].path`, `field`), the message beside that path and its line
 * in the text, a button selecting it there. `name` fixes the flow's name (an edit): a definition naming
 * another flow would save that one instead, so it is refused here.
 */
export function FlowEditor({
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
  /** A new flow: the names in use (saving one of them would make its next version). */
  taken?: Set<string>;
  label: string;
  help: string;
  save: string;
  onSaved: (flow: Flow) => void;
}) {
  const { t } = useTranslation();
  const queries = useQueryClient();
  const [text, setText] = useState(initial);
  /** Refused before sending: bad JSON, a missing or changed name. */
  const [local, setLocal] = useState<{ path: string; message: string } | null>(null);
  const area = useRef<HTMLTextAreaElement>(null);
  const save = useMutation({
    mutationFn: ({ to, body }: { to: string; body: unknown }) =>
      api<Flow>(flowPath(to), { method: 'PUT', body }),
    onSuccess: async (flow) => {
      await queries.invalidateQueries({ queryKey: ['flows'] });
      await queries.invalidateQueries({ queryKey: ['flow', flow.name] });
      onSaved(flow);
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
  const described = ['flow-json-help', refusal ? 'flow-json-errors' : ''].filter(Boolean).join(' ');
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
          setLocal({ path: '', message: t('flows.editor.badJson', { message: (err as Error).message }) });
          return;
        }
        const named = (body as { name?: unknown } | null)?.name;
        if (name !== undefined && named !== undefined && named !== name) {
          save.reset();
          setLocal({ path: 'name', message: t('flows.editor.nameFixed', { name }) });
          return;
        }
        const to = name ?? (typeof named === 'string' && named.trim() ? named : null);
        if (to === null) {
          save.reset();
          setLocal({ path: 'name', message: t('flows.editor.needsName') });
          return;
        }
        if (taken?.has(to)) {
          save.reset();
          setLocal({ path: 'name', message: t('flows.editor.taken', { name: to }) });
          return;
        }
        setLocal(null);
        save.mutate({ to, body });
      }}
    >
      <div className="cfield wide">
        <label htmlFor="flow-json">{label}</label>
        <textarea
          id="flow-json"
          ref={area}
          rows={28}
          spellCheck={false}
          value={text}
          aria-invalid={!!refusal}
          aria-describedby={described}
          onChange={(e) => setText(e.target.value)}
        />
        <small id="flow-json-help" className="muted">
          {help}
        </small>
      </div>
      <div id="flow-json-errors" aria-live="polite">
        {refusal ? (
          <div role="alert" data-testid="flow-save-error">
            {top ? <p className="field-error">{top}</p> : null}
            <h3 className="sr-only">{t('flows.editor.errors')}</h3>
            <ul data-testid="flow-errors">
              {errors.map((e) => (
                <li key={e.path || '-'} data-error-for={e.path}>
                  {e.path ? (
                    <>
                      <code>{e.path}</code>
                      {e.at ? ` (${t('flows.editor.line', { line: e.at.line })})` : ''}:{' '}
                    </>
                  ) : null}
                  <span className="field-error">{e.message}</span>
                  {e.path && e.at ? (
                    <>
                      {' '}
                      <button type="button" className="link" onClick={() => show(e.at)}>
                        {t('flows.editor.show', { path: e.path })}
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
