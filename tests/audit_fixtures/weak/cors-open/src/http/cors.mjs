import cors from 'cors';

export const corsPolicy = cors();
