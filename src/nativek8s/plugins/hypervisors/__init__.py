"""plugins/hypervisors"""
