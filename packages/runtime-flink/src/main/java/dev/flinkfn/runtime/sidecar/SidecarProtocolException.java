package dev.flinkfn.runtime.sidecar;

/**
 * A frame that does not follow {@link SidecarProtocol}: truncated, with bytes left over, or with an unknown type,
 * output kind or fire mode. The peer does not speak this protocol version (or there is a bug on one side), so the
 * connection cannot be trusted any more and is closed.
 */
public class SidecarProtocolException extends SidecarException {
    private static final long serialVersionUID = 1L;

    public SidecarProtocolException(String message) {
        super(message);
    }
}
