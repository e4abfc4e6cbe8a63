import { Router } from 'express';
import { z } from 'zod';
import { verifyToken } from '../auth/tokens.ts';
import { createNote, listNotes } from './repository.ts';

// Strict schemas: unknown fields are a 400, every string and page is bounded (A8).
const noteBody = z.object({ title: z.string().min(1).max(200), body: z.string().max(10_000) }).strict();
const listQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(100).default(20) });

export const notesRouter = Router();

notesRouter.use((req, res, next) => {
  const token = req.get('authorization')?.replace(/^Bearer /, '');
  try {
    const claims = verifyToken(token ?? '');
    res.locals.userId = typeof claims === 'string' ? undefined : claims.sub;
    next();
  } catch {
    res.status(401).json({ title: 'Unauthorized' });
  }
});

notesRouter.get('/', async (req, res) => {
  const { limit } = listQuery.parse(req.query);
  res.json({ items: await listNotes(res.locals.userId, limit) });
});

notesRouter.post('/', async (req, res) => {
  const input = noteBody.parse(req.body);
  res.status(201).json({ id: await createNote(res.locals.userId, input.title, input.body) });
});
