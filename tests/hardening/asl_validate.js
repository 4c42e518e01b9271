// Validate many ASL definitions in one node process with asl-validator (pinned in package.json).
// stdin: a JSON array of definitions. stdout: a JSON array of {"valid": bool, "errors": [str]}.
// Called from code because the CLI ignores --no-arn-check; ARN checks stay on, so callers
// substitute placeholders such as ${AWS::Partition} with concrete values first.
"use strict";
const path = require("path");
const validator = require(path.join(__dirname, "..", "..", "node_modules", "asl-validator"));

// asl-validator 4.0.0 tells JSONata from literal strings with patterns whose "." does not
// match line breaks ("^(?!\\{% )(.+)(?! %\\})$"), so it rejects every literal or expression
// holding a newline, which AWS accepts (e.g. a Llama prompt template). Line breaks inside
// strings are replaced by spaces before validation; nothing else is changed.
function withoutLineBreaks(node) {
  if (typeof node === "string") return node.replace(/[\r\n\u2028\u2029]/g, " ");
  if (Array.isArray(node)) return node.map(withoutLineBreaks);
  if (node && typeof node === "object") {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, withoutLineBreaks(v)]));
  }
  return node;
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const results = JSON.parse(input).map((definition) => {
    const { isValid, errors } = validator(withoutLineBreaks(definition), {
      checkPaths: true,
      checkArn: true,
    });
    return {
      valid: isValid,
      errors: errors.map((e) => `${e["Error code"]}: ${e.Message}`),
    };
  });
  process.stdout.write(JSON.stringify(results));
});
