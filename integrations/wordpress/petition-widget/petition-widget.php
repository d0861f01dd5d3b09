<?php
/**
 * Plugin Name:       Petition Widget
 * Description:       Petitions from a petition-widget service in posts and pages: the [petition] shortcode, a Petition block, and hosted-petition links on a line of their own. Works for every role that can write posts, and can keep readers' browsers from contacting the service until they choose to sign.
 * Version:           0.1.0
 * Requires at least: 6.1
 * Requires PHP:      7.4
 * License:           GPL-2.0-or-later
 * License URI:       https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:       petition-widget
 *
 * @package PetitionWidget
 */

defined( 'ABSPATH' ) || exit;

define( 'PETITION_WIDGET_VERSION', '0.1.0' );
define( 'PETITION_WIDGET_FILE', __FILE__ );

require_once __DIR__ . '/includes/options.php';
require_once __DIR__ . '/includes/service.php';
require_once __DIR__ . '/includes/render.php';
require_once __DIR__ . '/includes/embed.php';
require_once __DIR__ . '/includes/settings.php';

add_action( 'init', 'petition_widget_init' );

/**
 * Registers the shortcode, the block, the URL embed and the loader.
 */
function petition_widget_init() {
	petition_widget_register_setting();
	add_shortcode( 'petition', 'petition_widget_shortcode' );
	register_block_type( __DIR__ . '/blocks/petition', array( 'render_callback' => 'petition_widget_block' ) );
	petition_widget_register_embed();
	// The loader comes from this site, not the service: reading a page asks nothing of it.
	wp_register_script( 'petition-widget-loader', plugins_url( 'assets/embed.js', __FILE__ ), array(), PETITION_WIDGET_VERSION, true );
	wp_register_style( 'petition-widget', plugins_url( 'assets/petition-widget.css', __FILE__ ), array(), PETITION_WIDGET_VERSION );
}
