import type { LoadSettings } from '../load.js';
import type { Measurement } from '../measurement.js';
import type { ScenarioName, ServerInfo } from '../target.js';

export interface Scenario {
  name: ScenarioName;
  /** One repeat of the load against one server; any preparation it needs happens before the clock starts. */
  measure(server: ServerInfo, load: LoadSettings): Promise<Measurement>;
  /** Replaces `measure` for the reference when its figure is not a server's answer to the same load. */
  measureReference?(server: ServerInfo, load: LoadSettings): Promise<Measurement>;
  /** Why the scenario has no reference (the bare oidc-provider has no such endpoint); its target is then its own latency. */
  withoutReference?: string;
  /** Figures measured once per run beside the table's, reported by name (JSON) and on a line of their own. */
  extraFigures?(load: LoadSettings): Promise<Record<string, number>>;
}
