// What a page of the login interaction is: the step it serves and its handlers. The router serves a
// page's actions (POST /interaction/:uid/<name>) and views (GET /interaction/:uid/<name>) only while
// `nextStep` names that page's step.
import type { Step } from '../steps.ts';
import type { Turn } from '../turn.ts';

export type Handler = (turn: Turn) => Promise<void>;

export interface Page {
  step: Step;
  /** GET /interaction/:uid while this is the step. */
  show: Handler;
  actions?: Record<string, Handler>;
  views?: Record<string, Handler>;
}
