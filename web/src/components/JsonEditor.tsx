import { useMutation } from '@tanstack/react-query';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { locateNearest, type TextPlace } from '../jsonPath';
import { errorsByPath } from '../pages/CampaignCommon';

/** A refusal at a path of the definition (`''`: the text as a whole). */
export interface JsonRefusal {
  path: string;
  message: string;
}

/**
 * The editor's words, translated by the page (each module keeps its own keys); the rest (not JSON, a
 * line, the button selecting a path) are `common.jsonEditor`'s.
 */
export interface JsonEditorLabels {
  /** The form's accessible name. */
  form: string;
  /** The textarea's label. */
  label: string;
  /** The hint under the textarea. */
  help: string;
  /** The submit button. */
  save: string;
  /** The errors' heading (for screen readers). */
  errors: string;
}

export interface JsonEditorProps<T> {
  /** The text it starts with (a new `key` starts it again). */
  initial: string;
  /**
   * The stem of its ids and test ids: the textarea `{id}-json` (with `{id}-json-help` and
   * `{id}-json-errors`), the refusal `data-testid="{id}-save-error"` and its list `{id}-errors`.
   */
  id: string;
  /** The textarea's height in lines. */
  rows: number;
  labels: JsonEditorLabels;
  /** A refusal before sending the parsed JSON (a name the definition may not have), or null to send it. */
  check?: (body: unknown) => JsonRefusal | null;
  /** Sends the parsed JSON (the PUT or POST); an ApiError's `details` place its refusal by path. */
  save: (body: unknown) => Promise<T>;
  /** After a save: the queries to refresh, what to say, where to go (awaited while the button waits). */
  onSaved: (saved: T) => unknown;
}

/**
 * A definition as JSON in a textarea (flows, surveys, subscription plans). Checked as JSON (and by
 * `check`) before it is sent; a refusal shows the API's message above and, for each path its `details`
 * name (`issues[].path`, `field`), the message beside that path and its line in the text, with a button
 * selecting it there. After a refusal the textarea gets the focus, the first place named selected.
 */
export function JsonEditor<T>({ initial, id, rows, labels, check, save: send, onSaved }: JsonEditorProps<T>) {
  const { t } = useTranslation();
  const [text, setText] = useState(initial);
  /** Refused before sending: bad JSON, or by `check`. */
  const [local, setLocal] = useState<JsonRefusal | null>(null);
  const area = useRef<HTMLTextAreaElement>(null);
  const save = useMutation({
    mutationFn: send,
    onSuccess: async (saved) => {
      await onSaved(saved);
    },
  });
  const byPath = local ? new Map([[local.path, local.message]]) : errorsByPath(save.error);
  const errors = [...byPath].map(([path, message]) => ({
    path,
    message,
    at: path ? locateNearest(text, path) : null,
  }));
  const top = local ? null : (save.error?.message ?? null);
  const show = (at: TextPlace | null) => {
    const el = area.current;
    if (!el) return;
    el.focus();
    if (!at) return;
    el.setSelectionRange(at.start, at.end);
    // A selection does not always scroll into view: the line goes near the top.
    const lineHeight = parseFloat(window.getComputedStyle(el).lineHeight) || 18;
    el.scrollTop = Math.max(0, (at.line - 3) * lineHeight);
  };
  const refusal = local ?? save.error;
  // Only when a new refusal arrives, not as the text changes: the first place is read through a ref.
  const firstRef = useRef<TextPlace | null>(null);
  firstRef.current = errors[0]?.at ?? null;
  useEffect(() => {
    if (refusal) show(firstRef.current);
  }, [refusal]);
  const refuse = (r: JsonRefusal) => {
    save.reset();
    setLocal(r);
  };
  const described = [`${id}-json-help`, refusal ? `${id}-json-errors` : ''].filter(Boolean).join(' ');
  return (
    <form
      className="builder flow-editor"
      aria-label={labels.form}
      onSubmit={(e) => {
        e.preventDefault();
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch (err) {
          refuse({ path: '', message: t('common.jsonEditor.badJson', { message: (err as Error).message }) });
          return;
        }
        const refused = check?.(body);
        if (refused) {
          refuse(refused);
          return;
        }
        setLocal(null);
        save.mutate(body);
      }}
    >
      <div className="cfield wide">
        <label htmlFor={`${id}-json`}>{labels.label}</label>
        <textarea
          id={`${id}-json`}
          ref={area}
          rows={rows}
          spellCheck={false}
          value={text}
          aria-invalid={!!refusal}
          aria-describedby={described}
          onChange={(e) => setText(e.target.value)}
        />
        <small id={`${id}-json-help`} className="muted">
          {labels.help}
        </small>
      </div>
      <div id={`${id}-json-errors`} aria-live="polite">
        {refusal ? (
          <div role="alert" data-testid={`${id}-save-error`}>
            {top ? <p className="field-error">{top}</p> : null}
            <h3 className="sr-only">{labels.errors}</h3>
            <ul data-testid={`${id}-errors`}>
              {errors.map((e) => (
                <li key={e.path || '-'} data-error-for={e.path}>
                  {e.path ? (
                    <>
                      <code>{e.path}</code>
                      {e.at ? ` (${t('common.jsonEditor.line', { line: e.at.line })})` : ''}:{' '}
                    </>
                  ) : null}
                  <span className="field-error">{e.message}</span>
                  {e.path && e.at ? (
                    <>
                      {' '}
                      <button type="button" className="link" onClick={() => show(e.at)}>
                        {t('common.jsonEditor.show', { path: e.path })}
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
          {labels.save}
        </button>
      </p>
    </form>
  );
}

/** What the pages pass a module's editor of a definition saved by its name (a flow, a survey). */
export interface NamedDefinitionEditorProps<T> {
  initial: string;
  /** An edit: the name, which stays. */
  name?: string;
  /** A new one: the names in use. */
  taken?: Set<string>;
  /** The form's name (its heading's words). */
  title: string;
  label: string;
  help: string;
  save: string;
  onSaved: (saved: T) => void;
}

/**
 * The name checks of a definition saved by its `name`: an edit's (`name` given) may not name another
 * one, which would be saved instead; a new one's needs a name, not one of those `taken`. The refusal is
 * at `name`, in the module's words.
 */
export function nameRefusal(
  body: unknown,
  { name, taken }: { name?: string; taken?: Set<string> },
  words: { nameFixed: string; needsName: string; taken: (name: string) => string },
): JsonRefusal | null {
  const named = definitionName(body);
  if (name !== undefined)
    return named !== undefined && named !== name ? { path: 'name', message: words.nameFixed } : null;
  if (typeof named !== 'string' || !named.trim()) return { path: 'name', message: words.needsName };
  return taken?.has(named) ? { path: 'name', message: words.taken(named) } : null;
}

/** The `name` a parsed definition gives (undefined: none, or not an object). */
export const definitionName = (body: unknown): unknown => (body as { name?: unknown } | null)?.name;

/**
 * A definition on its page: for a role that may change it, a section with the editor (`children`), a
 * note above it and what the last save did (`data-testid="{id}-saved"`); for the others the JSON to read
 * in a disclosure (`{id}-json`).
 */
export function DefinitionSection({
  write,
  id,
  title,
  note,
  saved,
  json,
  definition,
  children,
}: {
  write: boolean;
  /** The test ids' stem. */
  id: string;
  /** The editor section's heading. */
  title: string;
  note?: ReactNode;
  /** What the last save did (null: none yet). */
  saved: string | null;
  /** The read-only disclosure's summary. */
  json: string;
  definition: unknown;
  /** The editor. */
  children: ReactNode;
}) {
  if (!write)
    return (
      <details>
        <summary>{json}</summary>
        <pre data-testid={`${id}-json`} style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
          {JSON.stringify(definition, null, 2)}
        </pre>
      </details>
    );
  return (
    <section aria-labelledby="editor-title">
      <h2 id="editor-title">{title}</h2>
      {note}
      {saved !== null ? (
        <p role="status" data-testid={`${id}-saved`}>
          {saved}
        </p>
      ) : null}
      {children}
    </section>
  );
}
