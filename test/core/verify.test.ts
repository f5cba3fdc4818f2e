/**
 * verifyToken loads jose once per process; a load that fails is not kept for later calls.
 */
let failNext = true;
jest.mock("jose", () => {
  if (failNext) {
    failNext = false;
    throw new Error("EMFILE: too many open files");
  }
  return jest.requireActual("jose");
});

import { createToken } from "../../src/core";
import { verifyToken } from "../../src/core/verify";
import { generateTestKey, TEAM } from "../support/keys";

const key = generateTestKey();

test("a failed load of jose fails that call only; the next call loads it again", async () => {
  const token = await createToken({ ...TEAM, privateKey: key.pem }, { now: 1_760_000_000 });
  const expected = { keyType: "team" as const, issuerId: TEAM.issuerId, currentDate: new Date(1_760_000_001_000) };
  await expect(verifyToken(token, key.publicKeyPem, expected)).rejects.toThrow();
  await expect(verifyToken(token, key.publicKeyPem, expected)).resolves.toBe(true);
});
