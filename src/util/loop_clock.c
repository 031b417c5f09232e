#include "util/loop_clock.h"

#include <stddef.h>
#include <time.h>

static struct {
    int cached;
    int64_t offset, wall, mono;
    loop_clock_src src_wall, src_mono;
} g;

static int64_t read_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t raw_wall(void)
{
    return g.src_wall ? g.src_wall() : read_ms(CLOCK_REALTIME);
}

static int64_t raw_mono(void)
{
    return g.src_mono ? g.src_mono() : read_ms(CLOCK_MONOTONIC);
}

int64_t loop_clock_wall(void)
{
    return (g.cached ? g.wall : raw_wall()) + g.offset;
}

int64_t loop_clock_mono(void)
{
    return g.cached ? g.mono : raw_mono();
}

int64_t loop_clock_mono_now(void)
{
    return raw_mono();
}

int64_t loop_clock_mono_us_now(void)
{
    if (g.src_mono)
        return g.src_mono() * 1000;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void loop_clock_refresh(void)
{
    g.wall = raw_wall();
    g.mono = raw_mono();
}

void loop_clock_set_cached(int on)
{
    g.cached = on;
    loop_clock_refresh();
}

void loop_clock_set_offset(int64_t ms)
{
    g.offset = ms;
}

void loop_clock_set_source(loop_clock_src wall, loop_clock_src mono)
{
    g.src_wall = wall;
    g.src_mono = mono;
    loop_clock_refresh();
}
