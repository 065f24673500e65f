// Package e2e holds tests that run the server as separate processes:
// two replicas on one PostgreSQL database, and crash safety under SIGKILL.
package e2e
