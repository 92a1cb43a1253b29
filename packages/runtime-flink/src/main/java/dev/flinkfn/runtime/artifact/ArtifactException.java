package dev.flinkfn.runtime.artifact;

/** An artifact that cannot be used: unreadable, tampered with, or not a flinkfn artifact. */
public final class ArtifactException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ArtifactException(String message) {
        super(message);
    }

    public ArtifactException(String message, Throwable cause) {
        super(message, cause);
    }
}
