import { z } from 'zod';
import { AFTER_KEY_STEP, type KeyStep } from '../../oidc/key-service.js';
import { defineRoute, settled } from '../route.js';
import { SigningKeySchema, signingKeyView } from '../schemas.js';

/** Each rotation step as this API calls it. */
const STEP_CALLS: Record<KeyStep, string> = {
  'add-next': 'POST /api/v1/keys/next',
  promote: 'POST /api/v1/keys/promotion',
  retire: 'POST /api/v1/keys/retirement',
};

/** What to do after a step, the next step named as its call. */
function nextStep(step: KeyStep): string {
  const { wait, then } = AFTER_KEY_STEP[step];
  return then ? `${wait}, then ${STEP_CALLS[then]}` : wait;
}

const nextStepField = z.string().meta({ description: 'What to do next: every instance loads the keys at start' });

const ROTATION =
  'The rotation takes three steps, each followed by a rolling restart of every instance, since each loads the keys when it starts: ' +
  'publish a next key, promote it, retire the previous one. A step out of order is refused.';

export const keyRoutes = [
  defineRoute({
    id: 'keys.list',
    method: 'get',
    path: '/keys',
    summary: 'List the signing keys',
    description: 'Per algorithm: the current key (signs), a next one (published, does not sign yet), the previous one (published, verifies what it signed), and retired ones.',
    query: z.object({}).strict(),
    responses: { 200: { description: 'Every signing key, oldest first', schema: z.object({ items: z.array(SigningKeySchema) }).meta({ id: 'SigningKeyList' }) } },
    async handle({ context }) {
      return { status: 200, body: { items: (await context.services.keys.list()).map(signingKeyView) } };
    },
  }),

  defineRoute({
    id: 'keys.add-next',
    method: 'post',
    path: '/keys/next',
    summary: 'Rotation, step 1: publish a next key per algorithm',
    description: `${ROTATION} The next key appears in JWKS once instances restart; it does not sign yet, so relying parties can cache it first.`,
    responses: {
      201: {
        description: 'The keys added',
        schema: z.object({ added: z.array(SigningKeySchema), next_step: nextStepField }).meta({ id: 'KeysAdded' }),
      },
    },
    async handle({ context, actor }) {
      const { added } = settled(await context.services.keys.addNext(actor));
      return { status: 201, body: { added: added.map(signingKeyView), next_step: nextStep('add-next') } };
    },
  }),

  defineRoute({
    id: 'keys.promote',
    method: 'post',
    path: '/keys/promotion',
    summary: 'Rotation, step 2: the next key signs',
    description: `${ROTATION} The current key becomes the previous one and stays published, so tokens it signed still verify.`,
    responses: {
      200: { description: 'Promoted', schema: z.object({ promoted: z.literal(true), next_step: nextStepField }).meta({ id: 'KeysPromoted' }) },
    },
    async handle({ context, actor }) {
      settled(await context.services.keys.promote(actor));
      return { status: 200, body: { promoted: true, next_step: nextStep('promote') } };
    },
  }),

  defineRoute({
    id: 'keys.retire',
    method: 'post',
    path: '/keys/retirement',
    summary: 'Rotation, step 3: withdraw the previous key',
    description: `${ROTATION} Do it once tokens signed by the previous key have expired (an hour for ID and access tokens): they no longer verify after it.`,
    responses: {
      200: {
        description: 'How many keys were retired (0 when none was previous)',
        schema: z.object({ retired: z.number().int(), next_step: nextStepField }).meta({ id: 'KeysRetired' }),
      },
    },
    async handle({ context, actor }) {
      const { retired } = settled(await context.services.keys.retire(actor));
      return { status: 200, body: { retired, next_step: nextStep('retire') } };
    },
  }),
];
