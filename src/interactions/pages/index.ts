// Every step of the login interaction and the one page that serves it.
import type { Step } from '../steps.ts';
import { finish } from '../turn.ts';
import { choosePage } from './choose.ts';
import { consentPage } from './consent.ts';
import { enrolPage } from './enrol.ts';
import type { Page } from './page.ts';
import { passwordPage } from './password.ts';
import { recoveryCodesPage } from './recovery-codes.ts';
import { recoveryUsedPage } from './recovery-used.ts';
import { lockedPage, verifyPage } from './second-factor.ts';

/** Nothing is missing: the interaction ends without a page of its own. */
const finishPage = { step: 'finish', show: (turn) => finish(turn, turn.state) } satisfies Page;

export const PAGES = {
  password: passwordPage,
  choose: choosePage,
  verify: verifyPage,
  locked: lockedPage,
  enrol: enrolPage,
  recovery_codes: recoveryCodesPage,
  recovery_used: recoveryUsedPage,
  consent: consentPage,
  finish: finishPage,
} as const satisfies { [S in Step]: Page & { step: S } };
