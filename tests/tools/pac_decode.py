#!/usr/bin/python3
# Samba's NDR decoder on a PAC (ndr_unpack(krb5pac.PAC_DATA)), printed as JSON for the
# integration tests (tests/src/pac_tools.rs). Any buffer Samba cannot decode makes it fail.
# Run with Debian's /usr/bin/python3 (python3-samba); a pyenv python has no samba module.
import json
import sys

from samba.dcerpc import krb5pac
from samba.ndr import ndr_unpack


def sids(entries):
    return [{"sid": str(e.sid), "attributes": e.attributes} for e in entries or []]


def logon_info(info3):
    base = info3.base
    return {
        "account_name": base.account_name.string,
        "full_name": base.full_name.string,
        "rid": base.rid,
        "primary_gid": base.primary_gid,
        "groups": [{"rid": g.rid, "attributes": g.attributes} for g in base.groups.rids or []],
        "user_flags": base.user_flags,
        "logon_server": base.logon_server.string,
        "logon_domain": base.logon_domain.string,
        "domain_sid": str(base.domain_sid),
        "acct_flags": base.acct_flags,
        "logon_time": base.logon_time,
        "extra_sids": sids(info3.sids),
    }


def main(path):
    pac = ndr_unpack(krb5pac.PAC_DATA, open(path, "rb").read())
    out = {"buffers": []}
    for buffer in pac.buffers:
        out["buffers"].append({"type": buffer.type, "size": buffer._ndr_size})
        info = buffer.info
        if buffer.type == krb5pac.PAC_TYPE_LOGON_INFO:
            out["logon_info"] = logon_info(info.info.info3)
        elif buffer.type == krb5pac.PAC_TYPE_LOGON_NAME:
            out["client_info"] = {"name": info.account_name, "time": info.logon_time}
        elif buffer.type == krb5pac.PAC_TYPE_UPN_DNS_INFO:
            upn = {
                "upn": info.upn_name,
                "dns_domain": info.dns_domain_name,
                "flags": info.flags,
            }
            if info.flags & krb5pac.PAC_UPN_DNS_FLAG_HAS_SAM_NAME_AND_SID:
                upn["sam_name"] = info.ex.samaccountname
                upn["sid"] = str(info.ex.objectsid)
            out["upn_dns_info"] = upn
        elif buffer.type == krb5pac.PAC_TYPE_ATTRIBUTES_INFO:
            out["attributes"] = {"flags_length": info.flags_length, "flags": info.flags}
        elif buffer.type == krb5pac.PAC_TYPE_REQUESTER_SID:
            out["requester_sid"] = str(info.sid)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main(sys.argv[1])
