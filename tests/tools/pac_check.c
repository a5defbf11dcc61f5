/* pac_check: MIT krb5's own PAC verification of a ticket in a ccache, for the integration
 * tests (tests/src/pac_tools.rs builds and runs it; nothing else uses it).
 *
 *   KRB5CCNAME=... KRB5_CONFIG=... pac_check SERVICE SERVICE_KEYTAB KRBTGT_KEYTAB PAC_OUT [PAC_IN]
 *
 * Finds the ccache's ticket for SERVICE, decrypts it with SERVICE_KEYTAB, writes its PAC
 * (AD-WIN2K-PAC) to PAC_OUT, and prints one line per check, "NAME: OK" or "NAME: FAILED
 * message":
 *   server_and_client  krb5_pac_verify: server signature (service key), CLIENT_INFO
 *                      against the ticket's client and authtime
 *   kdc                krb5_pac_verify: KDC signature (krbtgt key)
 *   ticket             krb5_kdc_verify_ticket: server, KDC, and for a service ticket the
 *                      ticket and full-PAC signatures
 * With PAC_IN, the first two checks read those bytes instead of the ticket's PAC.
 * Exits 0 when every check passed, 1 when one failed, 2 when it could not run. */

#include <krb5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

static void report(krb5_context ctx, const char *name, krb5_error_code code) {
    if (code == 0) {
        printf("%s: OK\n", name);
    } else {
        const char *msg = krb5_get_error_message(ctx, code);
        printf("%s: FAILED %s\n", name, msg);
        krb5_free_error_message(ctx, msg);
        failures++;
    }
}

static void die(krb5_context ctx, const char *what, krb5_error_code code) {
    const char *msg = ctx ? krb5_get_error_message(ctx, code) : "";
    fprintf(stderr, "pac_check: %s: %s\n", what, msg);
    exit(2);
}

static krb5_keyblock *key_from(krb5_context ctx, const char *keytab, krb5_const_principal princ,
                               krb5_kvno kvno, krb5_enctype enctype) {
    krb5_keytab kt;
    krb5_keytab_entry entry;
    krb5_keyblock *key;
    krb5_error_code code = krb5_kt_resolve(ctx, keytab, &kt);
    if (code) die(ctx, keytab, code);
    code = krb5_kt_get_entry(ctx, kt, princ, kvno, enctype, &entry);
    if (code) die(ctx, "key not in keytab", code);
    code = krb5_copy_keyblock(ctx, &entry.key, &key);
    if (code) die(ctx, "copy key", code);
    krb5_free_keytab_entry_contents(ctx, &entry);
    krb5_kt_close(ctx, kt);
    return key;
}

static krb5_data read_file(const char *path) {
    krb5_data data = {0};
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    data.data = malloc(len > 0 ? len : 1);
    data.length = fread(data.data, 1, len, f);
    fclose(f);
    return data;
}

int main(int argc, char **argv) {
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: %s SERVICE SERVICE_KEYTAB KRBTGT_KEYTAB PAC_OUT [PAC_IN]\n", argv[0]);
        return 2;
    }
    krb5_context ctx;
    krb5_error_code code = krb5_init_context(&ctx);
    if (code) die(NULL, "krb5_init_context", code);

    krb5_ccache cc;
    krb5_principal client, server, krbtgt;
    krb5_creds match, creds;
    krb5_ticket *ticket;
    krb5_keytab kt;
    if ((code = krb5_cc_default(ctx, &cc))) die(ctx, "ccache", code);
    if ((code = krb5_cc_get_principal(ctx, cc, &client))) die(ctx, "ccache principal", code);
    if ((code = krb5_parse_name(ctx, argv[1], &server))) die(ctx, argv[1], code);
    memset(&match, 0, sizeof(match));
    match.client = client;
    match.server = server;
    if ((code = krb5_cc_retrieve_cred(ctx, cc, 0, &match, &creds))) die(ctx, "no such ticket in the ccache", code);
    if ((code = krb5_decode_ticket(&creds.ticket, &ticket))) die(ctx, "decode ticket", code);
    if ((code = krb5_kt_resolve(ctx, argv[2], &kt))) die(ctx, argv[2], code);
    if ((code = krb5_server_decrypt_ticket_keytab(ctx, kt, ticket))) die(ctx, "decrypt ticket", code);

    krb5_authdata **pacs = NULL;
    code = krb5_find_authdata(ctx, ticket->enc_part2->authorization_data, NULL,
                              KRB5_AUTHDATA_WIN2K_PAC, &pacs);
    if (code || pacs == NULL || pacs[0] == NULL) {
        printf("pac: FAILED the ticket carries no PAC\n");
        return 1;
    }
    FILE *out = fopen(argv[4], "wb");
    if (!out) { perror(argv[4]); return 2; }
    fwrite(pacs[0]->contents, 1, pacs[0]->length, out);
    fclose(out);

    krb5_keyblock *service_key = key_from(ctx, argv[2], server, ticket->enc_part.kvno,
                                          ticket->enc_part.enctype);
    krb5_data realm = server->realm;
    if ((code = krb5_build_principal_ext(ctx, &krbtgt, realm.length, realm.data, 6, "krbtgt",
                                         realm.length, realm.data, 0)))
        die(ctx, "krbtgt name", code);
    krb5_keyblock *krbtgt_key = key_from(ctx, argv[3], krbtgt, 0, 0);

    krb5_data bytes;
    if (argc == 6) {
        bytes = read_file(argv[5]);
    } else {
        bytes.data = (char *)pacs[0]->contents;
        bytes.length = pacs[0]->length;
    }
    krb5_pac pac;
    if ((code = krb5_pac_parse(ctx, bytes.data, bytes.length, &pac))) {
        report(ctx, "parse", code);
        return 1;
    }
    krb5_timestamp authtime = ticket->enc_part2->times.authtime;
    report(ctx, "server_and_client",
           krb5_pac_verify(ctx, pac, authtime, ticket->enc_part2->client, service_key, NULL));
    report(ctx, "kdc", krb5_pac_verify(ctx, pac, authtime, NULL, NULL, krbtgt_key));
    krb5_pac verified = NULL;
    report(ctx, "ticket",
           krb5_kdc_verify_ticket(ctx, ticket->enc_part2, server, service_key, krbtgt_key,
                                  &verified));
    return failures ? 1 : 0;
}
