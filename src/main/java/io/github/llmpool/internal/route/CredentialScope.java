package io.github.llmpool.internal.route;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Where a provider's credential may go, and which headers carry it: the provider's scheme, host
 * and port, and the <em>names</em> of its credential header and extra headers. It holds no header
 * value, so it can ride on a request as the tag the redirect guard reads (and on whatever OkHttp
 * hands back with that request) without carrying a key. Immutable; one per {@link Endpoint}.
 */
public final class CredentialScope {
  public final String scheme;
  public final String host;
  public final int port;
  /** The credential header's name (if the provider has a key) and then each extra header's name. */
  public final List<String> headerNames;

  CredentialScope(String scheme, String host, int port, String credentialHeader,
      List<Map.Entry<String, String>> headers) {
    this.scheme = scheme;
    this.host = host;
    this.port = port;
    List<String> names = new ArrayList<>(headers.size() + 1);
    if (credentialHeader != null) {
      names.add(credentialHeader);
    }
    for (Map.Entry<String, String> h : headers) {
      names.add(h.getKey());
    }
    this.headerNames = List.copyOf(names);
  }

  /** Whether a request to this scheme, host and port stays on the provider (hosts compare case-insensitively). */
  public boolean covers(String scheme, String host, int port) {
    return this.port == port && this.scheme.equals(scheme) && this.host.equalsIgnoreCase(host);
  }

  @Override
  public String toString() {
    return "CredentialScope{" + scheme + "://" + host + ":" + port + ", headers=" + headerNames + "}";
  }
}
