package main

import (
	"strings"

	"github.com/embedzk/zk"
)

// jvmProps are the Java system properties a ZooKeeper server takes from
// SERVER_JVMFLAGS or JVMFLAGS (zkServer.sh passes both to its JVM) that
// this server reads too:
//
//	-Djava.security.auth.login.config=FILE                    the JAAS file of the SASL users (zk.LoadJAAS)
//	-Dzookeeper.superUser=NAME                                the SASL super user
//	-Dzookeeper.DigestAuthenticationProvider.superDigest=D    the super digest
//	-Dzookeeper.enforce.auth.enabled=true                     enforced authentication,
//	-Dzookeeper.enforce.auth.schemes=sasl,digest              of these schemes
//	-Dzookeeper.sessionRequireClientSASLAuth=true             the same, for sasl alone
//
// A later flag wins, and SERVER_JVMFLAGS comes after JVMFLAGS, as on
// zkServer.sh's java command line; zoo.cfg's superUser and
// DigestAuthenticationProvider.superDigest win over both, as ZooKeeper
// sets the system properties from zoo.cfg after its JVM started.
type jvmProps struct {
	jaas, superUser, superDigest         string
	enforce, enforceSchemes, requireSASL string
}

// readJVMFlags picks the properties above out of the environment's flags;
// getenv is os.Getenv.
func readJVMFlags(getenv func(string) string) jvmProps {
	var p jvmProps
	for _, v := range []string{"JVMFLAGS", "SERVER_JVMFLAGS"} {
		for _, f := range strings.Fields(getenv(v)) {
			key, value, ok := strings.Cut(strings.TrimPrefix(f, "-D"), "=")
			if !ok || !strings.HasPrefix(f, "-D") {
				continue
			}
			switch key {
			case "java.security.auth.login.config":
				p.jaas = value
			case "zookeeper.superUser":
				p.superUser = value
			case "zookeeper.DigestAuthenticationProvider.superDigest":
				p.superDigest = value
			case "zookeeper.enforce.auth.enabled":
				p.enforce = value
			case "zookeeper.enforce.auth.schemes":
				p.enforceSchemes = value
			case "zookeeper.sessionRequireClientSASLAuth":
				p.requireSASL = value
			}
		}
	}
	return p
}

// apply sets what the properties give on cfg (the JAAS file is read now)
// where zoo.cfg did not; jaas, if not "", is the -jaas flag, which wins
// over the property.
func (p jvmProps) apply(cfg *zk.Config, jaas string) error {
	if jaas == "" {
		jaas = p.jaas
	}
	if jaas != "" {
		users, err := zk.LoadJAAS(jaas)
		if err != nil {
			return err
		}
		cfg.SASLUsers = users
	}
	if cfg.SASLSuperUser == "" {
		cfg.SASLSuperUser = p.superUser
	}
	if cfg.SuperDigest == "" {
		cfg.SuperDigest = p.superDigest
	}
	if cfg.EnforceAuthSchemes == nil {
		cfg.EnforceAuthSchemes = p.enforced()
	}
	return nil
}

// enforced is the schemes the enforcement properties name, read as
// ZooKeeper reads them (Java's Boolean.parseBoolean; an empty scheme is
// left for Validate to refuse).
func (p jvmProps) enforced() []string {
	switch {
	case strings.EqualFold(p.requireSASL, "true"):
		return []string{"sasl"}
	case !strings.EqualFold(p.enforce, "true"):
		return nil
	}
	out := []string{}
	for _, s := range strings.Split(p.enforceSchemes, ",") {
		out = append(out, strings.TrimSpace(s))
	}
	return out
}
