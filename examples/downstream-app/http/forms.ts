/** Reads an urlencoded form body through a zod schema; anything unexpected is a 400. */
import type { Context } from 'koa';
import type { z } from 'zod';
import { AppError } from './errors.ts';

export function readForm<Schema extends z.ZodType>(ctx: Context, schema: Schema): z.infer<Schema> {
  const parsed = schema.safeParse(ctx.request.body ?? {});
  if (!parsed.success) {
    throw new AppError('invalid_form', 400, 'The form was incomplete. Go back and try again.', parsed.error.message);
  }
  return parsed.data;
}
