/** The clients and people a benchmark server is loaded with. */
export interface Seed {
  /** A Bitrix24 account's confidential client: authorization code, refresh, introspection. */
  /** `idTokenAlg`: how its ID tokens are signed, so the reference signs the same way and the ratio compares like with like. */
  accountClient: { clientId: string; clientSecret: string; redirectUri: string; idTokenAlg: string };
  /** A client allowed the client_credentials grant only. */
  serviceClient: { clientId: string; clientSecret: string };
  /** People who can sign in with a password; the reference signs everyone in without one, so it lists none. */
  people: Person[];
  /** More members of the account, for totp_signin: many profiles per virtual user, each with an authenticator app set up by the seed. */
  secondStepPeople?: SecondStepPerson[];
  /** An account with ten thousand members, whose back end calls the management API; NetID only. */
  largeAccount?: { name: string; clientId: string; clientSecret: string; members: number };
}

/** Everything the load needs to reach one server under test, which may be several processes. */
export interface ServerInfo extends Seed {
  kind: 'netid' | 'reference';
  /** What the table calls it: "NetID", "NetID x2", "reference". */
  label: string;
  /** The issuer every instance shares, as behind a load balancer. */
  issuer: string;
  /**
   * Where requests go: one origin per process. The load is spread over them
   * as a load balancer would; a flow stays on the origin it started on only
   * because oidc-provider builds redirects from the Host it was asked on.
   */
  origins: string[];
}

export interface Person {
  identifier: string;
  password: string;
}

/** A person whose profile has an authenticator app: its secret, and the time step its first code used. */
export interface SecondStepPerson extends Person {
  totpSecret: string;
  lastTimeStep: number;
}

export const SCENARIO_NAMES = [
  'client_credentials',
  'introspection',
  'userinfo',
  'refresh_token',
  'password_signin',
  'federated_signin',
  'totp_signin',
  'members_list',
  'member_invite',
  'discovery',
  'jwks',
] as const;

export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** client_secret_basic as RFC 6749 2.3.1 writes it: each part form-encoded before base64. */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  const encode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}
