import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  accountOfArn,
  checkKmsKeyArn,
  kmsKeyPolicy,
  readerPolicy,
  replicaSecretArn,
  secretAndReplicaArns,
  secretResourcePolicy,
  secretsManagerServiceName,
} from "../../../src/storage/aws/policies";
import { formatStoredCredential } from "../../../src/core/stored-credential";

const CTX = { accountId: "111122223333", partition: "aws", region: "eu-west-1" };
const SECRET = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:asc/ci-AbCdEf";

test("policies.ts is pure: no Pulumi or AWS SDK import", () => {
  const source = readFileSync(join(__dirname, "../../../src/storage/aws/policies.ts"), "utf8");
  expect(source).not.toMatch(/from\s+["']@pulumi|require\(["']@pulumi|@aws-sdk/);
});

test("ARN helpers", () => {
  expect(accountOfArn("arn:aws:iam::444455556666:role/x")).toBe("444455556666");
  expect(accountOfArn("not-an-arn")).toBeUndefined();
  expect(replicaSecretArn(SECRET, "us-east-1")).toBe("arn:aws:secretsmanager:us-east-1:111122223333:secret:asc/ci-AbCdEf");
  expect(secretsManagerServiceName(CTX)).toBe("secretsmanager.eu-west-1.amazonaws.com");
  expect(secretsManagerServiceName({ ...CTX, region: "cn-north-1", dnsSuffix: "amazonaws.com.cn" })).toBe("secretsmanager.cn-north-1.amazonaws.com.cn");
});

test("partition flows into the root principal", () => {
  const doc = kmsKeyPolicy({ ...CTX, partition: "aws-us-gov" });
  expect(doc.Statement[0]?.Principal).toEqual({ AWS: "arn:aws-us-gov:iam::111122223333:root" });
});

test("secret policy: nothing to say gives undefined (Secrets Manager rejects an empty policy)", () => {
  expect(secretResourcePolicy({ ...CTX, secretArn: SECRET, denyOtherPrincipals: false })).toBeUndefined();
  expect(secretResourcePolicy({ ...CTX, secretArn: SECRET })).toBeDefined();
});

test("secret policy: principals de-duplicated, root first", () => {
  const r = "arn:aws:iam::111122223333:role/r";
  const doc = secretResourcePolicy({ ...CTX, secretArn: SECRET, readers: [r, r], administrators: [r, "arn:aws:iam::111122223333:root"] });
  expect(doc?.Statement[0]?.Condition).toEqual({ ArnNotLike: { "aws:PrincipalArn": ["arn:aws:iam::111122223333:root", r] } });
});

test("reader policy: one secret ARN as a string, replicas as a list", () => {
  const key = "arn:aws:kms:eu-west-1:111122223333:key/k";
  expect(readerPolicy({ ...CTX, secretArn: SECRET, kmsKeyArn: key }).Statement[0]?.Resource).toBe(SECRET);
  expect(readerPolicy({ ...CTX, secretArn: SECRET, kmsKeyArn: key, replicaRegions: ["us-east-1", "eu-west-1"] }).Statement[0]?.Resource).toEqual([
    SECRET,
    replicaSecretArn(SECRET, "us-east-1"),
  ]);
});

test("stored JSON: documented key order; issuerId dropped for individual keys", () => {
  const base = { keyId: "2X9R4HXF34", issuerId: "57246542-96fe-1a63-e053-0824d011072a", privateKey: "PEM", fingerprint: "sha256:00" };
  expect(formatStoredCredential({ ...base, keyType: "team" })).toBe(
    '{"schemaVersion":1,"keyType":"team","keyId":"2X9R4HXF34","issuerId":"57246542-96fe-1a63-e053-0824d011072a","privateKey":"PEM","fingerprint":"sha256:00"}',
  );
  expect(formatStoredCredential({ ...base, keyType: "individual" })).toBe(
    '{"schemaVersion":1,"keyType":"individual","keyId":"2X9R4HXF34","privateKey":"PEM","fingerprint":"sha256:00"}',
  );
});

test.each([
  ["arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", true],
  ["arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab", true],
  ["arn:aws-cn:kms:cn-north-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", true],
  ["arn:aws:kms:eu-west-1:111122223333:alias/asc", false],
  ["alias/asc", false],
  ["1234abcd-12ab-34cd-56ef-1234567890ab", false],
  ["arn:aws:kms:eu-west-1:111122223333:key/", false],
])("checkKmsKeyArn(%s) accepts: %s", (value, ok) => {
  if (ok) expect(() => checkKmsKeyArn(value)).not.toThrow();
  else expect(() => checkKmsKeyArn(value)).toThrow(expect.objectContaining({ code: "KMS_KEY_ARN_INVALID", field: "kmsKeyArn", message: expect.stringMatching(/^kmsKeyArn: .* is not a KMS key ARN\..*aws\.kms\.getKeyOutput/) }));
});

test("secret policy: every statement covers the secret and each replica ARN", () => {
  expect(secretAndReplicaArns(SECRET, ["us-east-1", "eu-west-1"])).toEqual([SECRET, replicaSecretArn(SECRET, "us-east-1")]);
  const doc = secretResourcePolicy({ ...CTX, secretArn: SECRET, replicaRegions: ["us-east-1"], readers: ["arn:aws:iam::111122223333:role/r"], externalReaders: ["arn:aws:iam::444455556666:role/x"] });
  expect(doc?.Statement.map((st) => [st.Sid, st.Resource])).toEqual([
    ["DenyEveryoneNotListed", [SECRET, replicaSecretArn(SECRET, "us-east-1")]],
    ["DenyReadersAnythingButReading", [SECRET, replicaSecretArn(SECRET, "us-east-1")]],
    ["AllowExternalReaders", [SECRET, replicaSecretArn(SECRET, "us-east-1")]],
  ]);
});

test("secret policy: readers are denied everything but reading, unless root or administrators", () => {
  const r = "arn:aws:iam::111122223333:role/r";
  const admin = "arn:aws:iam::111122223333:role/admin-*";
  const doc = secretResourcePolicy({ ...CTX, secretArn: SECRET, readers: [r, r], administrators: [admin] });
  expect(doc?.Statement[1]).toEqual({
    Sid: "DenyReadersAnythingButReading",
    Effect: "Deny",
    Principal: { AWS: "*" },
    NotAction: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
    Resource: SECRET,
    Condition: { ArnLike: { "aws:PrincipalArn": [r] }, ArnNotLike: { "aws:PrincipalArn": ["arn:aws:iam::111122223333:root", admin] } },
  });
  // No readers, or denyOtherPrincipals off: no such statement.
  expect(secretResourcePolicy({ ...CTX, secretArn: SECRET })?.Statement.map((st) => st.Sid)).toEqual(["DenyEveryoneNotListed"]);
  expect(secretResourcePolicy({ ...CTX, secretArn: SECRET, readers: [r], denyOtherPrincipals: false })).toBeUndefined();
});

test("reader policy: decrypt only with this secret's ARN as encryption context", () => {
  const key = "arn:aws:kms:eu-west-1:111122223333:key/k";
  expect(readerPolicy({ ...CTX, secretArn: SECRET, kmsKeyArn: key, replicaRegions: ["us-east-1"] }).Statement[1]?.Condition).toEqual({
    StringEquals: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com", "kms:EncryptionContext:SecretARN": SECRET },
  });
});
