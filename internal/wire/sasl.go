package wire

import (
	"crypto/rand"
	"fmt"
	"slices"

	"github.com/embedzk/zk/internal/digestmd5"
	"github.com/embedzk/zk/internal/jute"
	"github.com/embedzk/zk/internal/zkerr"
)

// SASL DIGEST-MD5 as ZooKeeper's server creates it: protocol "zookeeper"
// and server name "zk-sasl-md5", which is also the realm (the JDK's
// DIGEST-MD5 server; kazoo and the Java client send the digest-uri
// zookeeper/zk-sasl-md5).
const (
	saslProtocol   = "zookeeper"
	saslServerName = "zk-sasl-md5"
)

// saslStep runs one step of the connection's SASL exchange (op sasl), as
// ZooKeeperServer.processSasl: the client's token in, the server's out,
// both answered with the request's xid and zxid 0. Once the exchange
// completes the session has the identity {"sasl", user} (and super, for
// Config.SASLSuperUser) on this connection. A failed step and a step after
// the exchange ended are answered AUTHFAILED (SESSIONCLOSEDREQUIRESASLAUTH
// where Config.EnforceAuthSchemes requires sasl) with a null token, and the
// connection closes, as ZooKeeper closes it; so is any SASL request to a
// peer without Config.SASLUsers (ZooKeeper without a JAAS Server section
// answers OK with a null token and keeps the connection, which leaves its
// clients' exchange with nothing to go on).
func (c *conn) saslStep(xid int32, r *jute.SASLToken) bool {
	users := c.s.e.Config().SASLUsers
	if len(users) == 0 {
		c.s.cfg.Logger.Info("zk: client port: a SASL request, but no SASL users are configured (Config.SASLUsers); answering AUTHFAILED and closing the connection", "ip", c.ip)
		return c.saslFailed(xid)
	}
	if c.sasl == nil {
		lookup := func(user string) (string, bool) {
			pw, ok := users[user]
			return pw, ok
		}
		c.sasl = digestmd5.NewServer(saslProtocol, saslServerName, lookup, rand.Reader)
	}
	out, done, err := c.sasl.Step(r.Token)
	if err != nil {
		c.s.cfg.Logger.Info("zk: client port: SASL authentication failed; closing the connection", "ip", c.ip, "err", err)
		return c.saslFailed(xid)
	}
	if done {
		if err := c.sess.AddSASL(c.ctx, c.sasl.User()); err != nil {
			// Not the credentials: the peer stopped serving or the session
			// ended. The connection closes without an answer, as for any
			// request then, and the client may try again.
			code, act := wireError(err)
			if act == closeConn {
				return false
			}
			c.replyHeader(xid, code)
			return act == reply
		}
		c.s.cfg.Logger.Info("zk: client port: SASL authentication succeeded", "ip", c.ip, "user", c.sasl.User())
	}
	c.queueReply(&jute.ReplyHeader{Xid: xid}, &jute.SASLToken{Token: out}, noPos, false)
	return true
}

// saslFailed answers a SASL request AUTHFAILED (SESSIONCLOSEDREQUIRESASLAUTH
// where Config.EnforceAuthSchemes requires sasl, as ZooKeeper); the
// connection closes.
func (c *conn) saslFailed(xid int32) bool {
	code := zkerr.CodeAuthFailed
	if slices.Contains(c.s.cfg.EnforceAuthSchemes, "sasl") {
		code = zkerr.CodeSessionClosedRequireSASLAuth
	}
	c.queueReply(&jute.ReplyHeader{Xid: xid, Err: int32(code)}, &jute.SASLToken{}, noPos, false)
	return false
}

// enforceAuth refuses a request of a connection with no identity of the
// schemes Config.EnforceAuthSchemes requires, as ZooKeeper's
// AuthenticationHelper (enforce.auth.enabled): SESSIONCLOSEDREQUIRESASLAUTH,
// then the connection closes; the session is left to expire unless its
// client re-attaches and authenticates. A connection that has one stays
// authenticated (its identities are only ever added to).
func (c *conn) enforceAuth() error {
	schemes := c.s.cfg.EnforceAuthSchemes
	if len(schemes) == 0 || c.authed.Load() {
		return nil
	}
	for _, id := range c.sess.Identities() {
		if slices.Contains(schemes, id.Scheme) {
			c.authed.Store(true)
			return nil
		}
	}
	return fmt.Errorf("%w: the connection has no identity of the schemes %v (enforce.auth.schemes)",
		zkerr.ErrSessionClosedRequireSASLAuth, schemes)
}
