package io.github.llmpool.telemetry;

import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The options {@code llmpool-micrometer}'s and {@code llmpool-opentelemetry}'s bindings share: the
 * {@link GenAiNaming}, the {@code gen_ai.operation.name}, the {@code gen_ai.provider.name} of named
 * providers and the models to name besides the configured ones. Each binding's builder delegates
 * its setters of these to a {@link Builder}, so that both take and check them the same way.
 * Immutable.
 */
public final class TelemetryOptions {
  private final GenAiNaming naming;
  private final String operation;
  private final Map<String, String> genAiProviders;
  private final Set<String> models;

  private TelemetryOptions(Builder b) {
    this.naming = b.naming;
    this.operation = b.operation;
    this.genAiProviders = Map.copyOf(b.genAiProviders);
    this.models = Set.copyOf(b.models);
  }

  /**
   * A builder with the defaults: {@link GenAiNaming#CURRENT}, operation {@code chat}, no
   * provider names, no extra models.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The naming of the GenAI metrics.
   *
   * @return the naming
   */
  public GenAiNaming naming() {
    return naming;
  }

  /**
   * The {@code gen_ai.operation.name} of the pool's requests.
   *
   * @return e.g. {@code chat}
   */
  public String operation() {
    return operation;
  }

  /**
   * The {@code gen_ai.provider.name} values set by provider (llmpool name).
   *
   * @return an unmodifiable map
   */
  public Map<String, String> genAiProviders() {
    return genAiProviders;
  }

  /**
   * The models to name besides the providers' configured ones.
   *
   * @return an unmodifiable set
   */
  public Set<String> models() {
    return models;
  }

  /**
   * {@code value}, checked: not null, not blank.
   *
   * @param name the setting, for the messages
   * @param value its value
   * @return {@code value}
   * @throws NullPointerException if {@code value} is null (the message is {@code name})
   * @throws IllegalArgumentException if it is blank ({@code NAME must not be blank but was 'VALUE'})
   */
  public static String requireToken(String name, String value) {
    Objects.requireNonNull(value, name);
    if (value.isBlank()) {
      throw new IllegalArgumentException(name + " must not be blank but was '" + value + "'");
    }
    return value;
  }

  /**
   * The options' values.
   *
   * @return e.g. {@code naming=CURRENT, operation=chat, models=[], genAiProviders={}}
   */
  @Override
  public String toString() {
    return "naming=" + naming + ", operation=" + operation + ", models=" + models + ", genAiProviders=" + genAiProviders;
  }

  /** A mutable, not thread-safe builder of the options; every setter checks its arguments. */
  public static final class Builder {
    private GenAiNaming naming = GenAiNaming.CURRENT;
    private String operation = "chat";
    private final Map<String, String> genAiProviders = new HashMap<>();
    private final Set<String> models = new LinkedHashSet<>();

    private Builder() {}

    /**
     * Which names the GenAI metrics get. Default {@link GenAiNaming#CURRENT}.
     *
     * @param naming the naming
     * @return this builder
     * @throws NullPointerException if {@code naming} is null
     */
    public Builder naming(GenAiNaming naming) {
      this.naming = Objects.requireNonNull(naming, "naming");
      return this;
    }

    /**
     * The {@code gen_ai.operation.name} of the pool's requests. Default {@code chat}.
     *
     * @param operation a name from the conventions' list, or a custom one
     * @return this builder
     * @throws NullPointerException if {@code operation} is null
     * @throws IllegalArgumentException if it is blank ({@code operation must not be blank but was ''})
     */
    public Builder operation(String operation) {
      this.operation = requireToken("operation", operation);
      return this;
    }

    /**
     * The {@code gen_ai.provider.name} of one of the pool's providers (by its llmpool name),
     * instead of the one {@link TelemetryValues#genAiProviderOf} derives from its base URL.
     *
     * @param provider the provider's llmpool name
     * @param genAiProviderName the value, e.g. {@code ibm.watsonx.ai}
     * @return this builder
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if one is blank
     */
    public Builder genAiProvider(String provider, String genAiProviderName) {
      genAiProviders.put(requireToken("provider", provider), requireToken("genAiProviderName", genAiProviderName));
      return this;
    }

    /**
     * Models to name besides the providers' configured ones; adds to those set before.
     *
     * @param models model names
     * @return this builder
     * @throws NullPointerException if {@code models} or one of them is null
     * @throws IllegalArgumentException if one is blank
     */
    public Builder models(String... models) {
      Objects.requireNonNull(models, "models");
      for (String m : models) {
        this.models.add(requireToken("model", m));
      }
      return this;
    }

    /**
     * The options.
     *
     * @return a new, immutable value of the options set so far
     */
    public TelemetryOptions build() {
      return new TelemetryOptions(this);
    }
  }
}
