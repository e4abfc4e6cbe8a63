import { Router } from 'express';
import { z } from 'zod';
import pool from '../db.cjs';
import { authLimiter } from '../http/limits.ts';
import { verifyPassword } from './passwords.ts';
import { signToken } from './tokens.ts';

// Unknown fields are refused, not ignored (A8).
const credentials = z.strictObject({ email: z.email().max(254), password: z.string().min(15).max(128) });

export const authRouter = Router();

authRouter.post('/login', authLimiter, async (req, res) => {
  const input = credentials.parse(req.body);
  const { rows } = await pool.query('SELECT id, password_hash FROM users WHERE email = $1', [input.email]);
  const user = rows[0];
  if (user === undefined || !(await verifyPassword(user.password_hash, input.password))) {
    res.status(401).json({ title: 'Invalid credentials' });
    return;
  }
  res.json({ accessToken: signToken(user.id) });
});
