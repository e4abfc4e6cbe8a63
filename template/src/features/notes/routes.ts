import { defineRoute, type Route } from '../../http/registry.ts';
import { createNoteBody, listNotesQuery, noteParams, notePageSchema, noteSchema, updateNoteBody } from './schemas.ts';
import type { NoteService } from './service.ts';

export function noteRoutes(notes: NoteService): Route[] {
  const notFound = { description: 'No such note among yours' };
  return [
    defineRoute({
      method: 'get',
      path: '/v1/notes',
      summary: 'Your notes, newest first',
      tag: 'notes',
      query: listNotesQuery,
      responses: { 200: { description: 'A page of notes', schema: notePageSchema } },
      handler: async ({ user, query }) => ({ status: 200, body: await notes.list(user.id, query.limit, query.cursor) }),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/notes',
      summary: 'Create a note',
      tag: 'notes',
      body: createNoteBody,
      responses: { 201: { description: 'The new note', schema: noteSchema } },
      handler: async ({ user, body }) => {
        const note = await notes.create(user.id, body);
        return { status: 201, body: note, headers: { Location: `/v1/notes/${note.id}` } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/notes/:id',
      summary: 'One of your notes',
      tag: 'notes',
      params: noteParams,
      responses: { 200: { description: 'The note', schema: noteSchema }, 404: notFound },
      handler: async ({ user, params }) => ({ status: 200, body: await notes.get(user.id, params.id) }),
    }),
    defineRoute({
      method: 'patch',
      path: '/v1/notes/:id',
      summary: 'Change the title and/or body of one of your notes',
      tag: 'notes',
      params: noteParams,
      body: updateNoteBody,
      responses: { 200: { description: 'The changed note', schema: noteSchema }, 404: notFound },
      handler: async ({ user, params, body }) => ({ status: 200, body: await notes.update(user.id, params.id, body) }),
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/notes/:id',
      summary: 'Delete one of your notes',
      tag: 'notes',
      params: noteParams,
      responses: { 204: { description: 'Deleted' }, 404: notFound },
      handler: async ({ user, params }) => {
        await notes.remove(user.id, params.id);
        return { status: 204 };
      },
    }),
  ];
}
