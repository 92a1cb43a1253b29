package dev.flinkfn.runtime.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flinkfn.runtime.sidecar.SidecarClient;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The client every managed sidecar is reached through wraps the socket client: a method it does not forward falls
 * back to the interface's default and is silently lost. That happened to {@code answerInAnyOrder}, so an unordered
 * async function on a cluster would have failed on its first answer out of order.
 */
class LeasedSidecarClientTest {

    @Test
    void forwardsEveryMethodOfTheClientInterface() {
        List<String> missing = new ArrayList<>();
        for (Method method : SidecarClient.class.getMethods()) {
            if (Modifier.isStatic(method.getModifiers())) {
                continue;
            }
            try {
                LeasedSidecarClient.class.getDeclaredMethod(method.getName(), method.getParameterTypes());
            } catch (NoSuchMethodException e) {
                missing.add(method.getName());
            }
        }
        assertThat(missing).as("SidecarClient methods LeasedSidecarClient does not forward").isEmpty();
    }
}
