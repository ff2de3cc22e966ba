package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/embedzk/zk"
)

// quotaPath is ZooKeeper's Quotas.quotaZookeeper.
const quotaPath = "/zookeeper/quota"

// quotaFlags are setquota's (with values) and delquota's exclusive group.
func quotaFlags(values bool) *optionSpec {
	spec := flags("n:b:N:B:")
	if !values {
		spec = flags("nbNB")
	}
	spec.group = []string{"n", "b", "N", "B"}
	spec.descs = map[string]string{
		"n": "num soft quota", "b": "bytes soft quota", "N": "num hard quota", "B": "bytes hard quota",
	}
	spec.required = values
	return spec
}

// quotaConn returns the session's quota calls, or the error that says the
// service has none.
func (sh *Shell) quotaConn() (QuotaConn, error) {
	q, ok := sh.conn.(QuotaConn)
	if !ok {
		return nil, cliErr(errQuotasUnsupported.Error())
	}
	return q, nil
}

func (sh *Shell) setQuota(tokens []string) error {
	p, err := quotaFlags(true).parse(tokens)
	if err != nil {
		return err
	}
	if len(p.args) < 2 {
		return usageErr("setquota")
	}
	qc, err := sh.quotaConn()
	if err != nil {
		return err
	}
	path := p.args[1]
	if strings.HasPrefix(path, quotaPath) {
		sh.warn("cannot set a quota under the path: " + quotaPath)
		return nil
	}
	q, ok := sh.quotaValues(p)
	if !ok {
		return nil
	}
	if err := validatePath(path); err != nil {
		return err
	}
	ctx, cancel := sh.call()
	defer cancel()
	var refusal *QuotaRefusal
	err = qc.SetQuota(ctx, path, q)
	switch {
	case errors.As(err, &refusal):
		return cliErr(refusal.Reason)
	case errors.Is(err, zk.ErrNoNode):
		return cliErr(path + " does not exist.")
	case err != nil:
		return wrapErr(err, path)
	}
	// zkCli warns when the quota is already exceeded.
	limits, usage, err := qc.ListQuota(ctx, path)
	if err != nil {
		return wrapErr(err, path)
	}
	if (limits.Count > -1 && limits.Count < usage.Count) || (limits.CountHard > -1 && limits.CountHard < usage.Count) {
		fmt.Fprintf(sh.out, "[Warning]: the count quota you create is less than the existing count:%d\n", usage.Count)
	}
	if (limits.Bytes > -1 && limits.Bytes < usage.Bytes) || (limits.BytesHard > -1 && limits.BytesHard < usage.Bytes) {
		fmt.Fprintf(sh.out, "[Warning]: the bytes quota you create is less than the existing bytes:%d\n", usage.Bytes)
	}
	return nil
}

// quotaValues reads setquota's value, with zkCli's checks and messages.
func (sh *Shell) quotaValues(p *parsedOptions) (Quota, bool) {
	q := Quota{Count: -1, Bytes: -1, CountHard: -1, BytesHard: -1}
	for _, f := range []struct {
		name  string
		dst   *int64
		count bool
	}{{"n", &q.Count, true}, {"b", &q.Bytes, false}, {"N", &q.CountHard, true}, {"B", &q.BytesHard, false}} {
		if !p.has(f.name) {
			continue
		}
		var v int64
		var ok bool
		if f.count {
			var i int32
			i, ok = javaParseInt(p.value(f.name))
			v = int64(i)
		} else {
			v, ok = javaParseLong(p.value(f.name))
		}
		switch {
		case !ok:
			sh.warn("NumberFormatException happens when parsing the option value")
			return q, false
		case f.count && v <= 0:
			sh.warn("the num quota must be greater than zero")
			return q, false
		case !f.count && v < 0:
			sh.warn("the bytes quota must be greater than or equal to zero")
			return q, false
		}
		*f.dst = v
	}
	return q, true
}

func (sh *Shell) listQuota(tokens []string) error {
	p, err := flags("").parse(tokens)
	if err != nil {
		return err
	}
	if len(p.args) < 2 {
		return usageErr("listquota")
	}
	qc, err := sh.quotaConn()
	if err != nil {
		return err
	}
	path := p.args[1]
	sh.warn("absolute path is " + quotaPath + path + "/zookeeper_limits")
	ctx, cancel := sh.call()
	defer cancel()
	limits, usage, err := qc.ListQuota(ctx, path)
	if errors.Is(err, zk.ErrNoNode) {
		sh.warn("quota for " + path + " does not exist.")
		return nil
	}
	if err != nil {
		return wrapErr(err, path)
	}
	fmt.Fprintln(sh.out, "Output quota for "+path+" "+statsTrack(limits))
	fmt.Fprintf(sh.out, "Output stat for %s count=%d,bytes=%d\n", path, usage.Count, usage.Bytes)
	return nil
}

// statsTrack is ZooKeeper 3.8's StatsTrack.toString of the limits setquota
// writes (all four of them, so with its "=;" separator).
func statsTrack(q Quota) string {
	return fmt.Sprintf("count=%d,bytes=%d=;byteHardLimit=%d;countHardLimit=%d", q.Count, q.Bytes, q.BytesHard, q.CountHard)
}

func (sh *Shell) delQuota(tokens []string) error {
	p, err := quotaFlags(false).parse(tokens)
	if err != nil {
		return err
	}
	if len(p.args) < 2 {
		return usageErr("delquota")
	}
	qc, err := sh.quotaConn()
	if err != nil {
		return err
	}
	path := p.args[1]
	var clear *Quota
	if p.has("n") || p.has("b") || p.has("N") || p.has("B") {
		clear = &Quota{Count: -1, Bytes: -1, CountHard: -1, BytesHard: -1}
		for name, dst := range map[string]*int64{"n": &clear.Count, "b": &clear.Bytes, "N": &clear.CountHard, "B": &clear.BytesHard} {
			if p.has(name) {
				*dst = 1
			}
		}
	}
	ctx, cancel := sh.call()
	defer cancel()
	err = qc.DelQuota(ctx, path, clear)
	switch {
	case errors.Is(err, zk.ErrNoNode):
		fmt.Fprintln(sh.out, "Quota does not exist for "+path)
	case err != nil:
		return wrapErr(err, path)
	}
	return nil
}
