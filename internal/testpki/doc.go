// Package testpki issues throwaway certificates for tests: a CA made on
// the spot and the certificates it signs, PEM encoded, with ECDSA P-256
// keys, valid from an hour ago for a day. Only tests import it; a failure
// to make a key or a certificate fails the test that asked.
package testpki
