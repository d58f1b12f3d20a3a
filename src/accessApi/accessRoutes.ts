import { Router } from 'express';
import { ACCESS_PATHS, type AccessEndpoint } from './accessEndpoint.js';

// The access check's paths as Express routes, relative to /api/v1. The fast
// path (accessEndpoint.ts) serves the two exact spellings before Express sees
// them; what Express still matches (a trailing slash, other letter case, HEAD)
// reaches the same handler here, so both doors answer alike. Mounted ahead of
// the partner request budget: checks have a budget of their own.

export function accessRoutes(endpoint: AccessEndpoint): Router {
  const router = Router();
  router.get(ACCESS_PATHS.single, (req, res) => endpoint.serve(req, res, 'single'));
  router.post(ACCESS_PATHS.batch, (req, res) => endpoint.serve(req, res, 'batch'));
  return router;
}
