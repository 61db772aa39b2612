import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaPairCompatibility;

/**
 * Reads [{"reader": "<schema>", "writer": "<schema>"}, ...] on stdin and prints, for each pair, Avro
 * Java's verdict: can the reader read data written with the writer (SchemaCompatibility, the check the
 * Confluent and Apicurio registries run for BACKWARD)? One JVM for the whole table keeps it fast.
 */
public final class AvroCompat {
  public static void main(String[] args) throws Exception {
    ObjectMapper json = new ObjectMapper();
    JsonNode pairs = json.readTree(System.in);
    ArrayNode out = json.createArrayNode();
    for (JsonNode pair : pairs) {
      ObjectNode verdict = out.addObject();
      try {
        // One parser per schema: each schema defines its own named types.
        Schema reader = new Schema.Parser().parse(pair.get("reader").asText());
        Schema writer = new Schema.Parser().parse(pair.get("writer").asText());
        SchemaPairCompatibility result = SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
        verdict.put("compatible", result.getType() == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE);
        verdict.put("detail", result.getResult().getIncompatibilities().toString());
      } catch (Exception e) {
        verdict.put("compatible", false);
        verdict.put("detail", "parse error: " + e.getMessage());
      }
    }
    System.out.println(json.writeValueAsString(out));
  }
}
