"""PyFlink anchor of the throughput benchmark: the bench functions as a Python user would write them with PyFlink's
DataStream API, on the same records, parallelism and logic as ThroughputBenchmark's TypeScript and Java variants.

    python throughput.py --scenario tumbling-count --input <folder> --check-input <folder> \
        --records 500000 --runs 3 --parallelism 1 --mode process|thread

--input and --check-input are folders of the generator's records written by ThroughputBenchmark --write-input (one
file per reader, as the Java generator splits them), read with a file source. Like ThroughputBenchmark: first a check
run on --check-input (also the warm-up) whose results are collected and added up the same way as ResultDigest does,
then --runs measured runs into a discarding sink, each figure records / the job's net runtime
(JobExecutionResult.getNetRuntime: from the job's start to its end, so it includes starting the tasks and the Python
workers, not building the job graph). Prints one JSON line.

Bundled with PyFlink: its own Flink (printed as flinkVersion), in a local MiniCluster in PyFlink's JVM.
"""
import argparse
import json
import os
import statistics
import time
import sys

from pyflink.common import Configuration, Duration, Time, Types, WatermarkStrategy
from pyflink.common.watermark_strategy import TimestampAssigner
from pyflink.datastream import StreamExecutionEnvironment
from pyflink.datastream.connectors.base import Sink
from pyflink.datastream.connectors.file_system import FileSource, StreamFormat
from pyflink.datastream.functions import AggregateFunction, ProcessWindowFunction
from pyflink.datastream.window import (EventTimeSessionWindows, SlidingEventTimeWindows,
                                       TumblingEventTimeWindows)
from pyflink.java_gateway import get_gateway

SCENARIOS = ('stateless-map', 'tumbling-count', 'sliding-average', 'session-windows')


def total(line):
    """The stateless map: parse, compute the total, serialize (as ThroughputBenchmark.JavaTotal)."""
    order = json.loads(line)
    order['total'] = order['price'] * order['qty']
    return json.dumps(order, separators=(',', ':'))


class KeyTimeValue:
    """Key, timestamp and order value (as ThroughputBenchmark.JavaKey)."""

    def __init__(self, key_field):
        self.key_field = key_field

    def __call__(self, line):
        order = json.loads(line)
        return order[self.key_field], order['ts'], order['price'] * order['qty']


class OrderTime(TimestampAssigner):
    def extract_timestamp(self, value, record_timestamp):
        return value[1]


class SumCount(AggregateFunction):
    """Count and sum (as ThroughputBenchmark.SumCount)."""

    def create_accumulator(self):
        return 0, 0.0

    def add(self, value, accumulator):
        return accumulator[0] + 1, accumulator[1] + value[2]

    def get_result(self, accumulator):
        return accumulator

    def merge(self, a, b):
        return a[0] + b[0], a[1] + b[1]


class Result(ProcessWindowFunction):
    """The same JSON as ThroughputBenchmark.Result."""

    def process(self, key, context, elements):
        count, value = next(iter(elements))
        window = context.window()
        yield ('{"key":"%s","start":%d,"end":%d,"count":%d,"average":%s}'
               % (key, window.start, window.end, count, repr(value / count)))


def pipeline(env, scenario, folder):
    source = FileSource.for_record_stream_format(StreamFormat.text_line_format(), folder).build()
    lines = env.from_source(source, WatermarkStrategy.no_watermarks(), 'orders')
    if scenario == 'stateless-map':
        return lines.map(total, output_type=Types.STRING())
    key_field = 'page' if scenario == 'sliding-average' else 'user'
    windows = {
        'tumbling-count': lambda: TumblingEventTimeWindows.of(Time.seconds(1)),
        'sliding-average': lambda: SlidingEventTimeWindows.of(Time.seconds(10), Time.seconds(1)),
        'session-windows': lambda: EventTimeSessionWindows.with_gap(Time.seconds(15)),
    }[scenario]()
    # out-of-orderness 0, as every bench function declares
    strategy = WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(0)).with_timestamp_assigner(OrderTime())
    return (lines.map(KeyTimeValue(key_field), output_type=Types.TUPLE([Types.STRING(), Types.LONG(), Types.DOUBLE()]))
            .assign_timestamps_and_watermarks(strategy)
            .key_by(lambda t: t[0], key_type=Types.STRING())
            .window(windows)
            .aggregate(SumCount(), window_function=Result(),
                       accumulator_type=Types.TUPLE([Types.LONG(), Types.DOUBLE()]), output_type=Types.STRING()))


def environment(mode, parallelism, settings=()):
    # PyFlink runs process-mode Python functions in this (the client's) process when the job runs in a local
    # MiniCluster ('loopback', for debugging); a deployed job runs them in worker processes started by the task
    # manager, as this setting makes it here too.
    os.environ['_python_worker_execution_mode'] = 'process'
    config = Configuration()
    config.set_string('python.execution-mode', mode)
    config.set_string('python.executable', sys.executable)
    config.set_string('python.client.executable', sys.executable)
    # The Python worker caches keyed state (default 1,000 entries); with 10,000 keys live at once every access would
    # otherwise be a round trip to the JVM. A user tuning the job would raise it above the live keys and windows.
    config.set_string('python.state.cache-size', '100000')
    for setting in settings:  # --set key=value: other settings, for trying them
        key, value = setting.split('=', 1)
        config.set_string(key, value)
    env = StreamExecutionEnvironment.get_execution_environment(config)
    env.set_parallelism(parallelism)
    return env


def java_hash(text):
    """Java's String.hashCode, as ResultDigest sums it."""
    h = 0
    for c in text:
        h = (31 * h + ord(c)) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h


def digest(results):
    """What ResultDigest adds up, over the collected results."""
    d = {'results': 0, 'keySum': 0, 'startSum': 0, 'countSum': 0, 'averageSum': 0.0, 'totalSum': 0.0}
    for text in results:
        result = json.loads(text)
        d['results'] += 1
        key = next((result[f] for f in ('key', 'user', 'page') if f in result), None)
        if key is not None:
            d['keySum'] += java_hash(str(key))
        d['startSum'] += result.get('start', 0)
        d['countSum'] += result.get('count', 0)
        d['averageSum'] += result.get('average', 0.0)
        d['totalSum'] += result.get('total', 0.0)
    return d


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--scenario', choices=SCENARIOS, required=True)
    parser.add_argument('--input', required=True)
    parser.add_argument('--check-input', required=True)
    parser.add_argument('--records', type=int, required=True)
    parser.add_argument('--check-records', type=int, required=True)
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--parallelism', type=int, default=1)
    parser.add_argument('--mode', choices=('process', 'thread'), default='process')
    parser.add_argument('--max-seconds', type=float, default=900,
                        help='measured runs together take about this long at most (judged by the check run): fewer runs, never fewer records')
    parser.add_argument('--set', action='append', default=[], help='a further Flink/PyFlink setting, key=value')
    args = parser.parse_args()

    env = environment(args.mode, args.parallelism, args.set)
    started = time.monotonic()
    with pipeline(env, args.scenario, args.check_input).execute_and_collect(f'pyflink {args.mode} {args.scenario} (check)') as results:
        check = digest(results)
    # PyFlink's process mode can be slow enough on the window scenarios that three runs of the whole input would take
    # hours: then fewer runs (at least one), estimated from the check run's wall-clock time
    estimate = (time.monotonic() - started) * args.records / args.check_records
    runs = max(1, min(args.runs, int(args.max_seconds // max(estimate, 1e-3))))
    rates = []
    discard = Sink(get_gateway().jvm.org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink())
    for _ in range(runs):
        env = environment(args.mode, args.parallelism, args.set)
        pipeline(env, args.scenario, args.input).sink_to(discard)
        result = env.execute(f'pyflink {args.mode} {args.scenario}')
        rates.append(args.records * 1000.0 / result.get_net_runtime())
    version = get_gateway().jvm.org.apache.flink.runtime.util.EnvironmentInformation.getVersion()
    print(json.dumps({
        'scenario': args.scenario, 'mode': args.mode, 'parallelism': args.parallelism, 'records': args.records,
        'runs': runs, 'flinkVersion': version,
        'pyflink': {'median': round(statistics.median_high(rates)), 'min': round(min(rates)), 'max': round(max(rates))},
        'check': {'records': args.check_records, 'pyflink': check},
    }))


if __name__ == '__main__':
    main()
