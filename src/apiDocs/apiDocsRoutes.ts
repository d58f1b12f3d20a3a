import { Router } from 'express';
import { problemTypes, problemTypeUri, type ErrorCode } from '../http/errors.js';
import { buildOpenApiDocument } from './openapi.js';
import { html, page } from '../customerPages/pages/html.js';
import { messagePage } from '../customerPages/pages/invitationPages.js';

/** GET /openapi.json, and a page for every problem `type` so the URIs lead somewhere. */
export function apiDocs(options: { publicBaseUrl: string; version: string }): Router {
  const router = Router();
  // Built once: the document depends only on the schemas and the configuration.
  const document = JSON.stringify(buildOpenApiDocument(options));

  router.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(document);
  });

  router.get('/problems/:type', (req, res) => {
    const code = req.params.type as ErrorCode;
    if (!Object.hasOwn(problemTypes, code)) return res.status(404).send(messagePage('Unknown problem type', 'There is no such problem type.'));
    const { status, title, description } = problemTypes[code];
    res.send(page(title, html`<h1>${title}</h1><p>Problem type <code>${problemTypeUri(code)}</code>, HTTP status ${status}.</p><p>${description}</p>`));
  });

  return router;
}
