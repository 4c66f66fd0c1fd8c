/* fx_listener.c: TCP mode of the fixture (filled in with the NetworkTransport). */
#include "fx_listener.h"

#include "cluster_fixture.h"

#include <criterion/criterion.h>

void fx_listeners_reserve(struct fixture *fx) { (void)fx; cr_assert_fail("no TCP mode yet"); }
struct cluster_transport *fx_net_transport(struct fixture *fx, uint32_t id)
{
    (void)fx, (void)id;
    return NULL;
}
void fx_listener_start(struct fixture *fx, uint32_t id) { (void)fx, (void)id; }
void fx_listener_stop(struct fixture *fx, uint32_t id) { (void)fx, (void)id; }
