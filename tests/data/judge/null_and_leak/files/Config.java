import java.io.*;

class Config {
  static String firstLine(String path) throws IOException {
    BufferedReader r = new BufferedReader(new FileReader(path));
    return r.readLine().trim();
  }
}
