import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Auth } from '../../kit/http/auth.js';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';
import { documented, json } from '../../kit/http/openapi.js';
import { AppError } from '../../shared/errors.js';
import { langOfHeader, PAGE_HEADERS, type PageLang } from '../messaging/pages.js';
import {
  AnswersPage,
  AnswersQuery,
  InviteInput,
  InviteResult,
  ResultsQuery,
  Survey,
  SurveyDefinition,
  SurveyResults,
} from './schema.js';
import * as service from './service.js';
import { answeredPage, expiredPage, invalidPage, thanksPage, whyPage } from './wording.js';

const tags = ['surveys'];
const NameParam = z.object({ name: z.string().openapi({ description: 'the survey name' }) });

type Status = 200 | 403 | 404 | 410;
const html = (c: Context, body: string, status: Status = 200) => {
  for (const [k, v] of Object.entries(PAGE_HEADERS)) c.header(k, v);
  return c.html(body, status);
};

/** The page of a link, or the page of its refusal (nothing stored): 403 not valid or answered, 410 expired. */
async function linkPage(c: Context, fn: (lang: PageLang) => Promise<service.LinkPage>): Promise<Response> {
  const lang = langOfHeader(c.req.header('accept-language'));
  try {
    const p = await fn(lang);
    if (p.page === 'why') return html(c, whyPage(p.lang, p));
    if (p.page === 'thanks') return html(c, thanksPage(p.lang));
    return html(c, invalidPage(p.lang), 403);
  } catch (err) {
    if (!(err instanceof service.LinkRefused)) throw err;
    if (err.page === 'expired') return html(c, expiredPage(err.lang), 410);
    if (err.page === 'answered') return html(c, answeredPage(err.lang), 403);
    return html(c, invalidPage(err.lang), 403);
  }
}

/** The surveys API and the contact's pages (docs/surveys.md). */
export function registerSurveyRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  const who = (c: { get(k: 'principal'): { id: string } | undefined }) => c.get('principal')?.id ?? null;

  app.get(
    '/v1/surveys',
    documented(app, auth, 'surveys:read', {
      method: 'get',
      path: '/v1/surveys',
      tags,
      summary: 'The surveys',
      responses: { 200: json(z.object({ data: z.array(Survey) }), 'The surveys') },
    }),
    async (c) => c.json({ data: await service.listSurveys(deps) }),
  );
  app.put(
    '/v1/surveys',
    documented(app, auth, 'surveys:write', {
      method: 'put',
      path: '/v1/surveys',
      tags,
      summary:
        'Save a survey (NPS or CSAT, wording per language, throttle, the low-score rule) and its invitation template',
      request: { body: { required: true, content: { 'application/json': { schema: SurveyDefinition } } } },
      responses: { 200: json(Survey, 'The survey') },
    }),
    async (c) => c.json(await service.saveSurvey(deps, { body: await c.req.json(), by: who(c) })),
  );
  app.get(
    '/v1/surveys/:name',
    documented(app, auth, 'surveys:read', {
      method: 'get',
      path: '/v1/surveys/{name}',
      tags,
      summary: 'One survey',
      request: { params: NameParam },
      responses: { 200: json(Survey, 'The survey') },
    }),
    async (c) => c.json(await service.getSurvey(deps, { name: c.req.param('name') })),
  );
  app.post(
    '/v1/surveys/:name/archive',
    documented(app, auth, 'surveys:write', {
      method: 'post',
      path: '/v1/surveys/{name}/archive',
      tags,
      summary: 'Archive a survey (no new invitations; open links still take answers)',
      request: { params: NameParam },
      responses: { 200: json(Survey, 'The survey') },
    }),
    async (c) => c.json(await service.archiveSurvey(deps, { name: c.req.param('name') })),
  );
  app.post(
    '/v1/surveys/:name/invitations',
    documented(app, auth, 'surveys:write', {
      method: 'post',
      path: '/v1/surveys/{name}/invitations',
      tags,
      summary:
        'Invite customers (once per occurrence; not those invited to any survey within the throttle days)',
      request: {
        params: NameParam,
        body: { required: true, content: { 'application/json': { schema: InviteInput } } },
      },
      responses: { 200: json(InviteResult, 'Who was invited') },
    }),
    async (c) =>
      c.json(await service.inviteToSurvey(deps, { name: c.req.param('name'), body: await c.req.json() })),
  );
  app.get(
    '/v1/surveys/:name/results',
    documented(app, auth, 'surveys:read', {
      method: 'get',
      path: '/v1/surveys/{name}/results',
      tags,
      summary:
        'NPS or CSAT with its interval, response rate, tasks made, by month, "why" themes; by segment, channel, product and first-order cohort; next to CLV; resolved against unresolved low scores',
      request: { params: NameParam, query: ResultsQuery },
      responses: { 200: json(SurveyResults, 'The results') },
    }),
    async (c) =>
      c.json(await service.surveyResults(deps, { name: c.req.param('name'), query: c.req.query() }), 200),
  );
  app.get(
    '/v1/surveys/:name/answers',
    documented(app, auth, 'surveys:read', {
      method: 'get',
      path: '/v1/surveys/{name}/answers',
      tags,
      summary:
        'The answers, newest first (keyset pages, one band): customer, score, why, language, when, the task made',
      request: { params: NameParam, query: AnswersQuery },
      responses: { 200: json(AnswersPage, 'A page of answers') },
    }),
    async (c) =>
      c.json(await service.surveyAnswers(deps, { name: c.req.param('name'), query: c.req.query() }), 200),
  );

  // The contact's side: a score link answers on GET (the score is one click from the message); the
  // page it opens posts "why" to the form link.
  app.get('/s/:token', (c) =>
    linkPage(c, (lang) => service.answerScore(deps, { token: c.req.param('token'), lang })),
  );
  app.post('/s/:token', (c) =>
    linkPage(c, async (lang) => {
      const type = c.req.header('content-type') ?? '';
      if (!/application\/x-www-form-urlencoded|multipart\/form-data/.test(type))
        throw new AppError('validation', 'expected the survey form (application/x-www-form-urlencoded)', {
          where: { field: 'why' },
        });
      const body = await c.req.parseBody();
      const why = typeof body.why === 'string' ? body.why : '';
      return service.answerWhy(deps, { token: c.req.param('token'), why, lang });
    }),
  );
}
