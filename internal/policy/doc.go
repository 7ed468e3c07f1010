// Package policy is Amazon ECR's lifecycle-policy language: its types, a strict parser and
// validator that accept exactly what ECR accepts, the normalised form ECR and Terraform
// compare by, lint checks for valid policies that do the wrong thing, and Evaluate, which
// reproduces ECR's lifecycle decisions offline and explains each one.
//
// The package is pure: no I/O, no clock, no context. Callers pass the policy text, the
// images and the time to evaluate at; TestPolicyIsPure enforces this.
//
// Where ECR's behaviour is not documented, Evaluate's doc comment lists the choice made.
package policy
