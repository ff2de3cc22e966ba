package znode

import (
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/embedzk/zk/internal/zkerr"
)

// TestParseDigestAlg: every name ZooKeeper's Java (17) MessageDigest takes
// for a digest zk has gives the digest Java computes of "alice:pw" (the
// expected values were printed by MessageDigest.getInstance(name)); names
// Java refuses, and MD2, which zk lacks, fail with ErrBadArguments.
func TestParseDigestAlg(t *testing.T) {
	for _, c := range []struct{ name, want, std string }{
		{"SHA-1", "V55/p2T0OpjQ+low3NVAH4aLvm0=", "SHA-1"},
		{"sha", "V55/p2T0OpjQ+low3NVAH4aLvm0=", "SHA-1"},
		{"SHA1", "V55/p2T0OpjQ+low3NVAH4aLvm0=", "SHA-1"},
		{"1.3.14.3.2.26", "V55/p2T0OpjQ+low3NVAH4aLvm0=", "SHA-1"},
		{"MD5", "QwpqJMGZmnoDVQEvSuk/Gg==", "MD5"},
		{"SHA-224", "rZk7MJMHySAaBXbc+55enSsBrc/AWtui2aoxxg==", "SHA-224"},
		{"sha256", "uoe2aAb9LQtvXhepi1lfNPruBxd4qoF/snHQYhTtJPk=", "SHA-256"},
		{"SHA-256", "uoe2aAb9LQtvXhepi1lfNPruBxd4qoF/snHQYhTtJPk=", "SHA-256"},
		{"OID.2.16.840.1.101.3.4.2.1", "uoe2aAb9LQtvXhepi1lfNPruBxd4qoF/snHQYhTtJPk=", "SHA-256"},
		{"SHA-384", "obrJdsrrXux7gwjr8eA2jLJsq0VsBBdq3SeMGGXvfNAr5rrcy+bTb8v3of/HeplK", "SHA-384"},
		{"SHA512", "Dy+ldnWTPqe5lc/88JWjKlcZZcOKhoR941elGR9UJRs4r/GIzEuN2uestnN0NuQafJFo1SZVatgsuneUhNP0dA==", "SHA-512"},
		{"SHA-512/224", "z0SCKuWgAlzVUpX8HDCuvDNenYkb0ptVvBmb1g==", "SHA-512/224"},
		{"sha512/256", "DdCSHgpM6CRQrseF5VlG35H8PBle8VzTw3XAdJg9Ch8=", "SHA-512/256"},
		{"SHA3-224", "NPt+U+8iREUXStVSSYHbsO0UYXZO76mM6AOzyQ==", "SHA3-224"},
		{"SHA3-256", "UP3pLMAsQOlB1EMeRhqfae4O4Yw1rDUsFISFg/aL+48=", "SHA3-256"},
		{"2.16.840.1.101.3.4.2.8", "UP3pLMAsQOlB1EMeRhqfae4O4Yw1rDUsFISFg/aL+48=", "SHA3-256"},
		{"sha3-384", "2v5o9Iedl/SqQtafGb4JI5WPDZi/jaSggKhHf5QIqeLNYnVTj26zgnaGksiewsl5", "SHA3-384"},
		{"SHA3-512", "EAqDhZBkTqsj/cUAlHEnVRmvbppTYxYm2fPHrvTUbJ95OOMgGpbWX4jO9E8tTQ664BeoY43K2bpwdHqMSKZ7Og==", "SHA3-512"},
		{"SHAKE128-256", "XCb9/6uAIvHFa+D5uhmlI/pfrGOtg1A047DO/RBbd9Q=", "SHAKE128-256"},
		{"SHAKE256", "Hvx8cgsEAdI2UigzVGu8ptnpNJg1GzemDgnm5RlHH+93yhkKhfYhZbmo1CPblALW6PeVs/zdZxPH69cXAAZC0Q==", "SHAKE256-512"},
	} {
		alg, err := ParseDigestAlg(c.name)
		if err != nil {
			t.Errorf("ParseDigestAlg(%q): %v", c.name, err)
			continue
		}
		if got := alg.ID("alice", "pw"); got != "alice:"+c.want {
			t.Errorf("%s: ID = %q, want alice:%s", c.name, got, c.want)
		}
		if alg.String() != c.std {
			t.Errorf("%s: String() = %q, want %q", c.name, alg.String(), c.std)
		}
	}
	for _, name := range []string{"", "MD2", "SHA-257", " SHA1", "SHA1 ", "OID.", "SHA3", "SHAKE128-512"} {
		if _, err := ParseDigestAlg(name); !errors.Is(err, zkerr.ErrBadArguments) {
			t.Errorf("ParseDigestAlg(%q) = %v, want ErrBadArguments", name, err)
		}
	}
	var sha1 DigestAlg
	if sha1.String() != "SHA-1" || sha1.Size() != 20 || sha1.ID("alice", "pw") != DigestID("alice", "pw") {
		t.Errorf("the zero DigestAlg is %s (%d bytes), want SHA-1", sha1, sha1.Size())
	}
	if sha256, _ := ParseDigestAlg("SHA-256"); sha256.Size() != 32 {
		t.Errorf("SHA-256 Size %d, want 32", sha256.Size())
	}
}

// TestNoDigestACL: with Options.NoDigestACL, Prepare refuses a digest ACL
// entry with ErrInvalidACL where ZooKeeper's fixupACL refuses it with no
// digest provider: after the path's checks, before the parent's (create)
// or the node's (setACL) existence, and at its op in a multi. Apply, as a
// follower runs it, still takes a digest ACL.
func TestNoDigestACL(t *testing.T) {
	opts := testOptions(vfs.NewMem())
	opts.NoDigestACL = true
	tr, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	p := tr.NewPending()
	zxid := int64(0x100000000)
	prepare := func(txn Txn) Result {
		zxid++
		txn.Time = 1_700_000_000_000
		res, _ := p.Prepare(zxid, &txn, nil)
		return res
	}
	digest := []ACL{{PermAll, SchemeWorld, IDAnyone}, {PermRead, SchemeDigest, DigestID("u", "p")}}
	wantErr(t, prepare(Txn{Type: TxnCreate, Path: "/a", ACL: digest}).Err, zkerr.ErrInvalidACL)
	wantErr(t, prepare(Txn{Type: TxnCreate, Path: "/no/parent", ACL: digest}).Err, zkerr.ErrInvalidACL)
	wantErr(t, prepare(Txn{Type: TxnCreate, Path: "bad", ACL: digest}).Err, zkerr.ErrBadArguments)
	wantErr(t, prepare(createTxn("/a", "")).Err, nil)
	wantErr(t, prepare(Txn{Type: TxnSetACL, Path: "/a", ACL: digest, Version: -1}).Err, zkerr.ErrInvalidACL)
	wantErr(t, prepare(Txn{Type: TxnSetACL, Path: "/none", ACL: digest, Version: -1}).Err, zkerr.ErrInvalidACL)
	multi := prepare(Txn{Type: TxnMulti, Ops: []Txn{createTxn("/b", ""), {Type: TxnCreate, Path: "/c", ACL: digest}}})
	if !errors.Is(multi.Err, zkerr.ErrInvalidACL) || len(multi.Multi) != 2 || !errors.Is(multi.Multi[1].Err, zkerr.ErrInvalidACL) {
		t.Fatalf("multi with a digest ACL at op 1: %v %+v, want ErrInvalidACL there", multi.Err, multi.Multi)
	}
	res, _, err := tr.Apply(0x200000000, &Txn{Type: TxnCreate, Path: "/d", ACL: digest, Time: 1})
	if err != nil || res.Err != nil {
		t.Fatalf("Apply of a digest ACL with NoDigestACL: %v %v, want success", res.Err, err)
	}
	plain := newQuotaPipe(t, false)
	if r, _ := plain.runAs(Txn{Type: TxnCreate, Path: "/a", ACL: digest}, nil); r.Err != nil {
		t.Fatalf("without NoDigestACL: %v", r.Err)
	}
}
