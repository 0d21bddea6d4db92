// Plug point for the UI API and GraphQL subset used by the admin tab preview (mounted under
// /services/data/:version). Empty until the admin-tab work adds its routes here.
import express from 'express';
import type { Org } from '../org.ts';

export function createUiApiRouter(_org: Org): express.Router {
  return express.Router({ mergeParams: true });
}
