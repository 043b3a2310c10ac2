// Package walkthrough holds TestREADMEWalkthrough, which runs the server
// walkthrough of the repository's README.md as written: the shell blocks
// marked <!-- walkthrough: NAME --> are extracted from the file (not
// copied into the test) and run with bash against a real `make run` server
// and the test PostgreSQL, so the walkthrough cannot drift from the code.
package walkthrough
