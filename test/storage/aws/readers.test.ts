import { localReaderRoleName, planAttachments, roleNameFromArn } from "../../../src/storage/aws/readers";

const ACCOUNT = "111122223333";
const arn = (path: string): { arn: string } => ({ arn: `arn:aws:iam::${ACCOUNT}:role/${path}` });
const deferred = { deferred: true } as const;

test.each([
  ["arn:aws:iam::111122223333:role/reader", "reader"],
  ["arn:aws:iam::111122223333:role/apps/ci/reader-b", "reader-b"],
  ["arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Dev_0123", "AWSReservedSSO_Dev_0123"],
  ["arn:aws-cn:iam::111122223333:role/x+=,.@_-y", "x+=,.@_-y"],
])("roleNameFromArn(%s) = %s", (value, name) => {
  expect(roleNameFromArn(value)).toBe(name);
});

test.each([
  "arn:aws:iam::111122223333:user/alice",
  "arn:aws:sts::111122223333:assumed-role/reader/session",
  "reader",
  "arn:aws:iam::1111:role/reader",
])("roleNameFromArn refuses %s with READER_INVALID, naming the field", (value) => {
  expect(() => roleNameFromArn(value)).toThrow(expect.objectContaining({ code: "READER_INVALID", field: "readers", message: expect.stringMatching(/^readers: .* is not an IAM role ARN/) }));
});

test("localReaderRoleName: a role of this account gives its name; another account's is READER_OTHER_ACCOUNT with the fix", () => {
  expect(localReaderRoleName("arn:aws:iam::111122223333:role/ci/reader", ACCOUNT)).toBe("reader");
  expect(() => localReaderRoleName("arn:aws:iam::999999999999:role/ci/reader", ACCOUNT)).toThrow(
    expect.objectContaining({
      code: "READER_OTHER_ACCOUNT",
      message: expect.stringMatching(/^readers: 'arn:aws:iam::999999999999:role\/ci\/reader' is a role in account 999999999999, but the secret is deployed in account 111122223333\..*externalReaders/),
    }),
  );
  expect(() => localReaderRoleName("arn:aws:iam::111122223333:user/alice", ACCOUNT)).toThrow(expect.objectContaining({ code: "READER_INVALID" }));
});

test("localReaderRoleName: a role ARN of another partition is READER_INVALID (it would attach the policy to a same-named local role the resource policy then denies)", () => {
  expect(localReaderRoleName("arn:aws-us-gov:iam::111122223333:role/reader", ACCOUNT, "aws-us-gov")).toBe("reader");
  for (const [value, partition] of [["arn:aws-cn:iam::111122223333:role/reader", "aws"], ["arn:aws:iam::111122223333:role/reader", "aws-us-gov"]] as const) {
    expect(() => localReaderRoleName(value, ACCOUNT, partition)).toThrow(
      expect.objectContaining({ code: "READER_INVALID", field: "readers", message: expect.stringMatching(new RegExp(`^readers: '${value.replace(/[/]/g, "\\/")}' is a role in partition ${value.split(":")[1]}, but the secret is deployed in partition ${partition}\\. Give the ARN as arn:${partition}:iam::`)) }),
    );
  }
});

describe("planAttachments", () => {
  test("known ARNs are named after their role; the order of the list does not matter", () => {
    expect(planAttachments([arn("a"), arn("ci/b"), arn("c")])).toEqual([
      { suffix: "a", reader: 0 },
      { suffix: "b", reader: 1 },
      { suffix: "c", reader: 2 },
    ]);
    const names = (refs: { arn: string }[]) => planAttachments(refs).map((p) => p.suffix).sort();
    expect(names([arn("c"), arn("a"), arn("ci/b")])).toEqual(names([arn("a"), arn("ci/b"), arn("c")]));
  });

  test("removing a known reader removes exactly its name", () => {
    const before = planAttachments([arn("a"), arn("b"), arn("c")]).map((p) => p.suffix);
    const after = planAttachments([arn("a"), arn("c")]).map((p) => p.suffix);
    expect(before.filter((s) => !after.includes(s))).toEqual(["b"]);
  });

  test("one role under two paths, or twice, is attached once (the first one)", () => {
    expect(planAttachments([arn("a"), arn("x/a"), arn("a"), arn("b")])).toEqual([
      { suffix: "a", reader: 0 },
      { suffix: "b", reader: 3 },
    ]);
  });

  test("deferred readers are numbered among themselves, whatever sits between them", () => {
    expect(planAttachments([deferred, arn("a"), deferred, deferred])).toEqual([
      { suffix: "#0", reader: 0 },
      { suffix: "a", reader: 1 },
      { suffix: "#1", reader: 2 },
      { suffix: "#2", reader: 3 },
    ]);
  });

  test("a known ARN that is not a role refuses the whole plan", () => {
    expect(() => planAttachments([arn("a"), { arn: `arn:aws:iam::${ACCOUNT}:user/alice` }])).toThrow(expect.objectContaining({ code: "READER_INVALID" }));
  });

  test("no readers, no attachments", () => {
    expect(planAttachments([])).toEqual([]);
  });
});
