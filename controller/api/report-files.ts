import express, { Router } from 'express';
import { FileReportStore } from '../storage/file-store';

/**
 * The local reports at /reports/, without credentials (their names hold an
 * unguessable secret). A path is served only when the store says so (inside
 * its root, no link on the way or at the end): anything else is answered as
 * a file that is not there.
 */
export function reportFiles(store: FileReportStore): Router {
  const router = Router();
  router.use((req, _res, next) => {
    let relative: string;
    try {
      relative = decodeURIComponent(req.path);
    } catch {
      return next('router');
    }
    next(store.servable(relative) ? undefined : 'router');
  });
  router.use(express.static(store.root, { index: false, dotfiles: 'deny' }));
  return router;
}
