package dev.tessera.bindgen;

/** One function parameter; {@code name} is the C name or a made-up {@code argN} when it has none. */
public record Param(String name, String cType, JavaType type) {}
