import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;

/**
 * Creates or resets local SCRAM-SHA-512 users through the broker (AlterUserScramCredentials, KIP-554),
 * which kafkajs cannot send. Run by scripts/acl/apply.ts as a single-file source program:
 *
 *   java -cp '<kafka libs>/*' ScramUsers.java <bootstrap> < users
 *
 * stdin: one "name password" line per user, so no password appears on a command line. The admin login
 * comes from SCRAM_ADMIN_USER / SCRAM_ADMIN_PASSWORD. Prints one "upserted <name>" line per user.
 */
public class ScramUsers {
  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: ScramUsers <bootstrap-servers> < 'name password' lines");
      System.exit(64);
    }
    String adminUser = System.getenv().getOrDefault("SCRAM_ADMIN_USER", "admin");
    String adminPassword = System.getenv("SCRAM_ADMIN_PASSWORD");
    if (adminPassword == null) {
      System.err.println("SCRAM_ADMIN_PASSWORD is not set");
      System.exit(64);
    }
    List<UserScramCredentialAlteration> upserts = new ArrayList<>();
    List<String> names = new ArrayList<>();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = in.readLine()) != null; ) {
      line = line.trim();
      if (line.isEmpty()) continue;
      int space = line.indexOf(' ');
      String name = line.substring(0, space);
      String password = line.substring(space + 1);
      upserts.add(new UserScramCredentialUpsertion(name, new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), password));
      names.add(name);
    }
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    props.put(AdminClientConfig.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT");
    props.put("sasl.mechanism", "SCRAM-SHA-512");
    props.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
        + adminUser + "\" password=\"" + adminPassword.replace("\"", "\\\"") + "\";");
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
    try (Admin admin = Admin.create(props)) {
      admin.alterUserScramCredentials(upserts).all().get(30, TimeUnit.SECONDS);
    }
    for (String name : names) System.out.println("upserted " + name);
  }
}
