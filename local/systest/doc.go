// Package systest holds the system tests of the whole backend as it runs:
// the built bootstraps under the Lambda Runtime Interface Emulator, over
// dynalite, moto and the WeChat simulator (package stack assembles them).
// They check what no single package can: every variable a function reads
// is declared for it, each IAM policy allows exactly what its code does,
// the EMF lines, social, account and step-challenge flows end to end,
// deletions raced by every write path (widened by the DynamoDB proxy),
// answers to slow or failed dependencies, and schemathesis over
// docs/openapi.yaml. It has no code of its own outside its tests.
package systest
