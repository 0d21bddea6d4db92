// The UI API and GraphQL subset the admin tab uses, mounted under /services/data/:version after the
// auth guard: object info, record get/create/update/delete, and GraphQL record queries.
// Error bodies follow the UI API: record errors as { message, output: { errors, fieldErrors } }.
import express, { type Request, type Response } from 'express';
import type { Org, User } from '../org.ts';
import { ApiError, RecordError } from '../errors.ts';
import { objectInfo, recordRep } from './represent.ts';
import { executeGraphql } from './graphql.ts';

const notFound = () => new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');

function recordError(err: RecordError, org: Org, objectName: string) {
  const def = org.schema.objects.get(objectName.toLowerCase());
  const detail = (field: string | null) => ({
    constituentField: null,
    duplicateRecordError: null,
    errorCode: err.statusCode,
    field,
    fieldLabel: field ? (def?.fields.get(field.toLowerCase())?.label ?? field) : null,
    message: err.message,
  });
  const fieldErrors: Record<string, unknown[]> = {};
  for (const f of err.fields) fieldErrors[f] = [detail(f)];
  return {
    enhancedErrorType: 'RecordError',
    message: 'An error occurred while trying to update the record. Please try again.',
    output: { errors: err.fields.length ? [] : [detail(null)], fieldErrors },
  };
}

export function createUiApiRouter(org: Org): express.Router {
  const router = express.Router({ mergeParams: true });
  const user = (res: Response) => (res.locals.user ?? null) as User | null;
  const handle =
    (fn: (req: Request, res: Response) => { status: number; body?: unknown }, objectOf?: (req: Request) => string) => (req: Request, res: Response) => {
      try {
        const r = fn(req, res);
        if (r.body === undefined) res.status(r.status).end();
        else res.status(r.status).json(r.body);
      } catch (e) {
        if (e instanceof RecordError) return void res.status(400).json(recordError(e, org, objectOf?.(req) ?? ''));
        if (e instanceof ApiError) return void res.status(e.status).json(e.body());
        res.status(500).json([{ errorCode: 'UNKNOWN_EXCEPTION', message: `emulator error: ${(e as Error).message}` }]);
      }
    };
  const objectOfRecord = (req: Request) => org.objectOfId(String(req.params.recordId))?.name ?? '';

  router.get(
    '/ui-api/object-info/:objectApiName',
    handle((req, res) => {
      const def = org.object(String(req.params.objectApiName));
      if (!org.objectAccess(user(res), def).read) throw notFound(); // an object the user cannot read does not exist for them
      return { status: 200, body: objectInfo(org, user(res), def) };
    }),
  );

  router.get(
    '/ui-api/records/:recordId',
    handle((req, res) => {
      const def = org.objectOfId(String(req.params.recordId));
      const rec = def && org.get(def.name, String(req.params.recordId));
      if (!def || !rec) throw notFound();
      const names = [req.query.fields, req.query.optionalFields]
        .flatMap((v) => (Array.isArray(v) ? v : v ? [v] : []))
        .flatMap((v) => String(v).split(','))
        .filter(Boolean);
      for (const n of String(req.query.fields ?? '')
        .split(',')
        .filter(Boolean)) {
        const [obj, field] = n.split('.');
        if (obj !== def.name || !org.field(user(res), def, field ?? ''))
          throw new ApiError(400, 'INVALID_FIELD', `Cannot find field '${field}' on ${def.name}`);
      }
      return { status: 200, body: recordRep(org, user(res), def, rec, names.length ? names.map((n) => n.split('.').pop()!) : undefined) };
    }),
  );

  router.post(
    '/ui-api/records',
    handle(
      (req, res) => {
        const { apiName, fields } = (req.body ?? {}) as { apiName?: string; fields?: Record<string, unknown> };
        if (!apiName || !fields || typeof fields !== 'object') throw new ApiError(400, 'INVALID_INPUT', 'apiName and fields are required');
        const def = org.object(apiName);
        const id = org.create(user(res), def.name, fields);
        return { status: 201, body: recordRep(org, user(res), def, org.get(def.name, id)!) };
      },
      (req) => String((req.body as { apiName?: string })?.apiName ?? ''),
    ),
  );

  router.patch(
    '/ui-api/records/:recordId',
    handle((req, res) => {
      const def = org.objectOfId(String(req.params.recordId));
      if (!def || !org.get(def.name, String(req.params.recordId))) throw notFound();
      const { fields } = (req.body ?? {}) as { fields?: Record<string, unknown> };
      if (!fields || typeof fields !== 'object') throw new ApiError(400, 'INVALID_INPUT', 'fields is required');
      org.update(user(res), def.name, String(req.params.recordId), fields);
      return { status: 200, body: recordRep(org, user(res), def, org.get(def.name, String(req.params.recordId))!) };
    }, objectOfRecord),
  );

  router.delete(
    '/ui-api/records/:recordId',
    handle((req, res) => {
      const def = org.objectOfId(String(req.params.recordId));
      if (!def || !org.get(def.name, String(req.params.recordId))) throw notFound();
      org.delete(def.name, String(req.params.recordId), user(res));
      return { status: 204 };
    }, objectOfRecord),
  );

  router.post(
    '/graphql',
    handle((req, res) => ({ status: 200, body: executeGraphql(org, user(res), req.body ?? {}) })),
  );
  return router;
}
