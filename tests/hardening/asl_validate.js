// Validate many ASL definitions in one node process with asl-validator (pinned in package.json).
// stdin: a JSON array of definitions. stdout: a JSON array of {"valid": bool, "errors": [str]}.
// Called from code because the CLI ignores --no-arn-check; ARN checks stay on, so callers
// substitute placeholders such as ${AWS::Partition} with concrete values first.
"use strict";
const path = require("path");
const validator = require(path.join(__dirname, "..", "..", "node_modules", "asl-validator"));

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const results = JSON.parse(input).map((definition) => {
    const { isValid, errors } = validator(definition, { checkPaths: true, checkArn: true });
    return {
      valid: isValid,
      errors: errors.map((e) => `${e["Error code"]}: ${e.Message}`),
    };
  });
  process.stdout.write(JSON.stringify(results));
});
