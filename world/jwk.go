package world

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
)

// ParsePEMKey reads a PEM public key as Vault's jwt_validation_pubkeys
// takes it.
func ParsePEMKey(s string) (crypto.PublicKey, error) {
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		return nil, errors.New("no PEM block")
	}
	if k, err := x509.ParsePKIXPublicKey(b.Bytes); err == nil {
		return k, nil
	}
	if c, err := x509.ParseCertificate(b.Bytes); err == nil {
		return c.PublicKey, nil
	}
	return x509.ParsePKCS1PublicKey(b.Bytes)
}

// PublicKey is the public key of a JWK Nomad serves (RSA or Ed25519),
// nil for another kind or a key without its material.
func (k JWK) PublicKey() crypto.PublicKey {
	dec := base64.RawURLEncoding.DecodeString
	switch k.Kty {
	case "RSA":
		n, err1 := dec(k.N)
		e, err2 := dec(k.E)
		if err1 != nil || err2 != nil || len(n) == 0 || len(e) == 0 || len(e) > 4 {
			return nil
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	case "OKP":
		x, err := dec(k.X)
		if err != nil || k.Crv != "Ed25519" || len(x) != ed25519.PublicKeySize {
			return nil
		}
		return ed25519.PublicKey(x)
	}
	return nil
}
