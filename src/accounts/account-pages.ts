import type Router from '@koa/router';
import { formCheckbox, formField } from '../views/form-fields.js';
import type { Context } from 'koa';
import type { NetworkEnvironment } from '../profile/network-environment.js';
import { visitorOf } from '../profile/network-kit.js';
import { createAttemptCounter } from '../security/rate-limits.js';
import { personActor } from '../operations/request-actor.js';
import { ACCOUNT_PROBLEMS } from './account-service.js';
import { ACCOUNT_NAME_MAX, ACCOUNT_NAME_MIN } from './account-names.js';
import { accountBaseUrl } from './account-address.js';

/** Accounts one profile may create in an hour: enough for anyone, too few to fill the database. */
const ACCOUNTS_PER_PROFILE_PER_HOUR = 10;

/** The account actions of the network profile: create another, rename once (an invitation is accepted by entering the account). */
export function registerAccountPages(router: Router, env: NetworkEnvironment): void {
  const { context, kit } = env;
  const { queries, services } = context;
  const creations = createAttemptCounter(context.db, 'account-create', 60 * 60);

  /** The visitor's membership in the named account, or a 404 page. */
  async function membershipFor(ctx: Context) {
    const account = await queries.accounts.findByName(String(ctx.params.name));
    const membership = account ? await queries.memberships.find(account.id, visitorOf(ctx).profile.id) : undefined;
    if (!account || !membership || membership.state === 'dismissed') {
      context.views.render(ctx, 'error', { messageKey: 'error.not_found' }, 404);
      return undefined;
    }
    return { account, membership };
  }

  router.post('/accounts', kit.forms, async (ctx) => {
    if (!kit.guard(ctx)) return;
    const { profile } = visitorOf(ctx);
    const { attempts, resetAt } = await creations.record(profile.id);
    if (attempts > ACCOUNTS_PER_PROFILE_PER_HOUR) {
      context.metrics.rateLimitRefusals.inc({ limit: 'account_create' });
      ctx.set('Retry-After', String(Math.ceil((resetAt - Date.now()) / 1000)));
      return context.views.render(ctx, 'error', { messageKey: 'account.limit' }, 429);
    }
    await services.accounts.create(profile.id, personActor(ctx, profile.id));
    kit.done(ctx, '/network', 'done.account_created');
  });

  const renderRename = (ctx: Context, name: string, values: { name?: string; errorKey?: string; blocked?: boolean } = {}, status = 200) =>
    kit.render(
      ctx,
      'rename-account',
      {
        account: name,
        address: accountBaseUrl(context.config.accountUrlPattern, name),
        pattern: context.config.accountUrlPattern,
        min: ACCOUNT_NAME_MIN,
        max: ACCOUNT_NAME_MAX,
        ...values,
      },
      status,
    );

  router.get('/accounts/:name/rename', async (ctx) => {
    const found = await membershipFor(ctx);
    if (!found) return;
    if (found.membership.role !== 'admin' || found.membership.state !== 'active') {
      return renderRename(ctx, found.account.name, { errorKey: ACCOUNT_PROBLEMS['not-an-admin'].messageKey, blocked: true }, 403);
    }
    if (found.account.renamed_at) {
      return renderRename(ctx, found.account.name, { errorKey: ACCOUNT_PROBLEMS['account-already-renamed'].messageKey, blocked: true }, 409);
    }
    renderRename(ctx, found.account.name);
  });

  router.post('/accounts/:name/rename', kit.forms, async (ctx) => {
    if (!kit.guard(ctx)) return;
    const found = await membershipFor(ctx);
    if (!found) return;
    const newName = formField(ctx, 'name', 200);
    const result = await services.accounts.rename(found.account.id, newName, personActor(ctx, visitorOf(ctx).profile.id));
    if (!result.ok) {
      const { status, messageKey } = ACCOUNT_PROBLEMS[result.problem];
      // A name the person can correct keeps the form; a refusal of the rename itself does not.
      const blocked = result.problem === 'not-an-admin' || result.problem === 'account-already-renamed' || result.problem === 'account-not-found';
      return renderRename(ctx, found.account.name, { name: newName, errorKey: messageKey, blocked }, status);
    }
    kit.done(ctx, '/network', 'done.account_renamed');
  });

  const renderSecurity = (ctx: Context, account: { name: string; require_second_factor: boolean }, values: { errorKey?: string; blocked?: boolean } = {}, status = 200) =>
    kit.render(ctx, 'account-security', { account: account.name, required: account.require_second_factor, ...values }, status);

  // Whether everyone signing in to the account must prove two factors: its active admins decide.
  router.get('/accounts/:name/security', async (ctx) => {
    const found = await membershipFor(ctx);
    if (!found) return;
    const admin = found.membership.role === 'admin' && found.membership.state === 'active';
    if (!admin) return renderSecurity(ctx, found.account, { errorKey: ACCOUNT_PROBLEMS['not-an-admin'].messageKey, blocked: true }, 403);
    renderSecurity(ctx, found.account);
  });

  router.post('/accounts/:name/security', kit.forms, async (ctx) => {
    if (!kit.guard(ctx)) return;
    const found = await membershipFor(ctx);
    if (!found) return;
    const result = await services.accounts.setRequireSecondFactor(found.account.id, formCheckbox(ctx, 'require_second_factor'), personActor(ctx, visitorOf(ctx).profile.id));
    if (!result.ok) {
      const { status, messageKey } = ACCOUNT_PROBLEMS[result.problem];
      return renderSecurity(ctx, found.account, { errorKey: messageKey, blocked: result.problem === 'not-an-admin' }, status);
    }
    kit.done(ctx, '/network', 'done.account_security');
  });
}
