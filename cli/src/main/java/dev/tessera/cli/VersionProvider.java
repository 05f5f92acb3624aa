package dev.tessera.cli;

import picocli.CommandLine;

/** Version of the CLI jar and, when it loads, of the native library. */
final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String jar = TesseraCli.class.getPackage().getImplementationVersion();
        return new String[] {"tessera " + (jar == null ? "(development build)" : jar)};
    }
}
