package raftnode

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"os"
	"time"
)

// The Raft link is TLS 1.3 with both ends presenting a certificate that
// chains to the cluster's CA. By default the CA is derived from the cluster
// secret, so a cluster still needs only that one secret; operators may give
// their own certificate, key and CA as files instead. See DESIGN.md, "Link
// security".

// errPeerNotInCluster is returned when the far end's certificate does not
// chain to this node's cluster CA.
var errPeerNotInCluster = errors.New("peer certificate is not signed by the cluster CA")

// linkCreds are one node's credentials on the Raft link: the certificate it
// presents and the CA its peers' certificates must chain to.
type linkCreds struct {
	cert  tls.Certificate
	roots *x509.CertPool
	// fromSecret reports whether the CA was derived from the cluster
	// secret (else it was read from files); it picks the wording of
	// rejection logs.
	fromSecret bool
}

// Fixed certificate fields, so every node derives the same CA certificate
// from the same secret. Validity is as wide as x509 allows: the CA's key
// is the secret, and a leaf's key lives only as long as its process.
var (
	certNotBefore = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	certNotAfter  = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

const (
	caKeyInfo  = "pushflo raft link CA key v1"
	caKeySalt  = "pushflo/raftnode"
	caSubject  = "pushflo raft cluster CA"
	linkServer = "pushflo-raft" // the TLS server name both ends use
)

// secretCreds derives the cluster CA's ed25519 key from secret with
// HKDF-SHA256 and issues this node a certificate for a fresh ed25519 key,
// signed by that CA. Every node with the same secret trusts every other;
// a node without it can neither present a certificate that chains to the
// CA nor accept one.
func secretCreds(secret []byte, nodeID string) (*linkCreds, error) {
	seed, err := hkdf.Key(sha256.New, secret, []byte(caKeySalt), caKeyInfo, ed25519.SeedSize)
	if err != nil {
		return nil, fmt.Errorf("derive raft link CA key: %w", err)
	}
	caKey := ed25519.NewKeyFromSeed(seed)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: caSubject},
		NotBefore:             certNotBefore,
		NotAfter:              certNotAfter,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return nil, fmt.Errorf("create raft link CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("parse raft link CA certificate: %w", err)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate raft link key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: nodeID},
		DNSNames:     []string{linkServer},
		NotBefore:    certNotBefore,
		NotAfter:     certNotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, pub, caKey)
	if err != nil {
		return nil, fmt.Errorf("issue raft link certificate: %w", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	return &linkCreds{
		cert:       tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: priv},
		roots:      roots,
		fromSecret: true,
	}, nil
}

// fileCreds reads this node's certificate and key (PEM) and the CA (PEM,
// one or more certificates) its peers' certificates must chain to.
func fileCreds(certFile, keyFile, caFile string) (*linkCreds, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load raft link certificate %s and key %s: %w", certFile, keyFile, err)
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read raft link CA: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("raft link CA %s holds no PEM certificate", caFile)
	}
	return &linkCreds{cert: cert, roots: roots}, nil
}

// verify checks that the far end's certificate chain leads to the cluster
// CA. Host names are not checked: a member is whoever holds a certificate
// from the cluster CA, whatever address it dials from or listens on.
func (c *linkCreds) verify(rawCerts [][]byte, _ [][]*x509.Certificate) error {
	if len(rawCerts) == 0 {
		return fmt.Errorf("%w: no certificate presented", errPeerNotInCluster)
	}
	certs := make([]*x509.Certificate, len(rawCerts))
	for i, raw := range rawCerts {
		cert, err := x509.ParseCertificate(raw)
		if err != nil {
			return fmt.Errorf("%w: %v", errPeerNotInCluster, err)
		}
		certs[i] = cert
	}
	inter := x509.NewCertPool()
	for _, cert := range certs[1:] {
		inter.AddCert(cert)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{Roots: c.roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return fmt.Errorf("%w: %v", errPeerNotInCluster, err)
	}
	return nil
}

// serverConfig is the TLS configuration of accepted connections: TLS 1.3
// only, a client certificate required and checked by verify, no session
// resumption (every connection proves its certificate afresh).
func (c *linkCreds) serverConfig() *tls.Config {
	return &tls.Config{
		MinVersion:             tls.VersionTLS13,
		Certificates:           []tls.Certificate{c.cert},
		ClientAuth:             tls.RequireAnyClientCert,
		VerifyPeerCertificate:  c.verify,
		SessionTicketsDisabled: true,
	}
}

// clientConfig is the TLS configuration of dialed connections. The
// standard verification is replaced by verify (InsecureSkipVerify only
// turns off the host name check, which does not apply here).
func (c *linkCreds) clientConfig() *tls.Config {
	return &tls.Config{
		MinVersion:            tls.VersionTLS13,
		ServerName:            linkServer,
		Certificates:          []tls.Certificate{c.cert},
		InsecureSkipVerify:    true,
		VerifyPeerCertificate: c.verify,
	}
}
