/**
 * Jest global setup, once per run before any test worker starts: the packed consumer projects
 * (test/support/consumer-project.ts). One process installs, so workers need no locks.
 */
import { preparePackedConsumers } from "./consumer-project";

export default function globalSetup(): void {
  preparePackedConsumers();
}
